import ClerkKit
import FoundationEssentials
import LambdaRuntime
import Store

/// The pipeline every webhook function shares: read the HTTP event, bound the body, verify the Svix
/// signature, decode the Clerk event, apply it to PostgreSQL, answer.
///
/// Status codes tell Svix whether to retry: 2xx delivered; 4xx (malformed, unauthenticated, too large)
/// never succeeds on retry; 5xx only when the database failed, so that the message comes again.
public struct WebhookFunction: Handler {
    /// The registered name (for logs).
    public let name: String
    /// The event types this function applies; others are answered 202 "ignored".
    public let handledTypes: Set<String>
    private let config: WebhookConfig
    private let database: DatabaseSession
    private let events = ClerkEventDecoder()

    /// Sets up the function: webhook secrets and database are required.
    public init(name: String, handles types: Set<String>, _ ctx: InitContext) throws {
        self.name = name
        handledTypes = types
        config = try WebhookConfig(environment: ctx.environment)
        database = try DatabaseSession(environment: ctx.environment, logger: ctx.logger)
    }

    public func handle(_ event: [UInt8], context: Context) throws -> [UInt8] {
        respond(to: event, context: context).encoded()
    }

    /// The whole pipeline for one event.
    public func respond(to event: [UInt8], context: Context) -> APIResponse {
        let log = context.logger
        let request: APIRequest
        do {
            request = try APIRequest.decode(event)
        } catch {
            log.warn("webhook rejected", ["reason": "malformed_request", "detail": .string("\(error)")])
            return .error(400, "malformed_request", "expected an API Gateway or Function URL request")
        }
        if request.body.count > config.maxBodyBytes {
            log.warn("webhook rejected", ["reason": "payload_too_large", "bytes": .int(Int64(request.body.count))])
            return .error(413, "payload_too_large", "body exceeds \(config.maxBodyBytes) bytes")
        }
        let verified: VerifiedWebhook
        do {
            verified = try config.verifier.verify(header: { request.headers[$0] }, body: request.body, now: Clock.nowSeconds())
        } catch {
            var fields: KeyValuePairs<String, LogValue> = ["reason": .string(error.reason)]
            if case .missingHeaders(let names) = error {
                fields = ["reason": .string(error.reason), "missing": .string(names.joined(separator: ","))]
            }
            log.warn("webhook rejected", fields)
            return .error(error.httpStatus, error.reason, "webhook verification failed")
        }
        let log2 = log.with("svixId", .string(verified.messageId)).with("environment", .string(verified.environment))
        let clerkEvent: ClerkEvent
        do {
            clerkEvent = try events.event(request.body)
        } catch {
            log2.warn("webhook rejected", ["reason": "malformed_json", "detail": .string(DecodingErrorText.describe(error))])
            return .error(400, "malformed_json", "body is not a Clerk event: \(DecodingErrorText.describe(error))")
        }
        guard handledTypes.contains(clerkEvent.type) else {
            log2.info("webhook ignored", ["type": .string(clerkEvent.type)])
            return .json(202, ["status": "ignored", "type": clerkEvent.type])
        }
        let change: UserChange
        switch clerkEvent.payload {
        case .user(let user):
            change = UserChange(
                kind: clerkEvent.type == "user.created" ? .created : .updated, deliveryId: verified.messageId,
                environment: verified.environment, clerkUserId: user.id, email: user.primaryEmail,
                firstName: user.firstName, lastName: user.lastName, username: user.username, imageUrl: user.imageUrl,
                createdAtMs: user.createdAt, updatedAtMs: user.updatedAt ?? clerkEvent.timestamp,
                rawBody: String(decoding: request.body, as: UTF8.self))
        case .deleted(let deleted):
            change = UserChange(kind: .deleted, deliveryId: verified.messageId, environment: verified.environment,
                                clerkUserId: deleted.id, rawBody: String(decoding: request.body, as: UTF8.self))
        case .other:
            return .json(202, ["status": "ignored", "type": clerkEvent.type])
        }
        do {
            let result = try UserStore(connection: database.connection).apply(change)
            log2.info("webhook applied", ["type": .string(clerkEvent.type), "status": .string(result.status.rawValue),
                                          "clerkUserId": .string(change.clerkUserId),
                                          "userId": .string(result.userId?.postgresText ?? "")])
            return .json(200, WebhookResult(status: result.status.rawValue, userId: result.userId?.postgresText))
        } catch {
            log2.error("webhook not applied", ["reason": error.isTransient ? "database_unavailable" : "database_error",
                                               "sqlState": .string(error.sqlState)])
            return error.isTransient
                ? .error(503, "database_unavailable", "the database is unavailable; the delivery will be retried")
                : .error(500, "internal_error", "the delivery could not be stored")
        }
    }

    private struct WebhookResult: Encodable {
        var status: String
        var userId: String?
    }
}
