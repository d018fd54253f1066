import ClerkKit
import LambdaRuntime

/// Where a delivery came from, checked before anything reads it: Svix's signature over HTTP (inside the
/// timestamp window), and over a queue (without the window: a queued message may wait longer than Svix's five
/// minutes, and deduplication by delivery id closes the replay window instead). A queued message without Svix
/// headers is refused unless `CLERK_QUEUE_REQUIRE_SIGNATURE=false`: anyone who can write to the queue could
/// otherwise tombstone a user.
struct DeliveryGate: Sendable {
    /// The configured secrets with the timestamp window.
    let http: WebhookVerifier
    /// The same secrets without it (made once, not per message).
    let queued: WebhookVerifier
    /// `CLERK_QUEUE_REQUIRE_SIGNATURE`.
    let requireQueueSignature: Bool
    /// The environment of an unsigned queued message (`CLERK_ENVIRONMENT`).
    let defaultEnvironment: ClerkEnvironment

    /// Svix's ids are about 30 bytes and an AMQP id at most 255; a longer one cannot be indexed (PostgreSQL's
    /// btree limit), so its every delivery would fail and its batch come back for good.
    static let maxDeliveryIdBytes = 256

    /// Reads the secrets (`WebhookConfig`) and the queue rules; an unsigned-queue opt-out is logged at init.
    init(config: WebhookConfig, settings: Settings, logger: Logger) throws(ConfigError) {
        http = config.verifier
        queued = WebhookVerifier(entries: config.verifier.entries, toleranceSeconds: Int64(Int32.max))
        requireQueueSignature = try settings.flag("CLERK_QUEUE_REQUIRE_SIGNATURE", default: true)
        defaultEnvironment = try settings.clerkEnvironment()
        if !requireQueueSignature {
            logger.warn("CLERK_QUEUE_REQUIRE_SIGNATURE=false: queued events without Svix headers are accepted unverified")
        }
    }

    /// The delivery an HTTP request carries, or the Svix check's failure.
    func admit(headers: (String) -> String?, body: [UInt8]) -> Result<Delivery, WebhookVerificationError> {
        do {
            let verified = try http.verify(header: headers, body: body, now: Clock.nowSeconds())
            return .success(Delivery(id: verified.messageId, environment: verified.environment, body: body, source: .webhook))
        } catch {
            return .failure(error)
        }
    }

    /// The delivery a queued message carries, or the reason it is refused for good (a code for logs and
    /// `queue_rejects`).
    func admit(_ message: QueueBatch.Message, source: DeliverySource) -> Result<Delivery, QueueRefusal> {
        if let refusal = message.refusal { return .failure(QueueRefusal(reason: refusal)) }
        var delivery = Delivery(
            id: message.headers["svix-id"] ?? message.headers["webhook-id"] ?? message.id,
            environment: defaultEnvironment.rawValue, body: message.body, source: source)
        if message.headers["svix-signature"] != nil || message.headers["webhook-signature"] != nil {
            do {
                let verified = try queued.verify(header: { message.headers[$0] }, body: message.body, now: Clock.nowSeconds())
                delivery.id = verified.messageId
                delivery.environment = verified.environment
            } catch {
                return .failure(QueueRefusal(reason: error.reason))
            }
        } else if requireQueueSignature {
            return .failure(QueueRefusal(reason: "signature_required"))
        }
        guard delivery.id.utf8.count <= Self.maxDeliveryIdBytes else { return .failure(QueueRefusal(reason: "delivery_id_too_long")) }
        return .success(delivery)
    }
}

/// Why a queued message is refused before it becomes a delivery; the same on every redelivery.
struct QueueRefusal: Error, Sendable {
    /// `signature_required`, `signature_mismatch`, `data_not_base64`, `delivery_id_too_long`, …
    let reason: String
}
