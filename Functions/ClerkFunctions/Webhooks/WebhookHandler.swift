import ClerkKit
import JSON
import LambdaRuntime
import Store

/// The one path every Clerk event takes once its adapter has checked where it came from: read it through the
/// registry, apply its store change, give a new user their API key, answer. It knows neither its host nor the
/// envelope (API Gateway, SQS, Amazon MQ): adapters hand it a `Delivery` and write its `DeliveryOutcome`.
struct WebhookHandler: Sendable {
    /// The types this function applies; every other one, registered or not, is answered `ignored`.
    let accepted: Set<String>
    /// Where changes are written.
    let store: any EventStore
    /// Gives new users their API key; nil without a profile service.
    let issuer: APIKeyIssuer?

    /// Applies one delivery; never throws: every failure is an outcome with its own answer.
    func deliver(_ delivery: Delivery, context: Context, logger: Logger) -> DeliveryOutcome {
        var delivery = delivery
        // A raw NUL byte is not JSON at all (an escaped one is, and the store cleans it with every other
        // field); Clerk has sent them, signed, so they are dropped before reading rather than failing for good.
        let rawNUL = delivery.body.withUnsafeBufferPointer { $0.reduce(0) { $1 == 0 ? $0 + 1 : $0 } }
        if rawNUL > 0 { delivery.body.removeAll { $0 == 0 } }
        let event: RoutedEvent
        do {
            event = try JSONCoding.decoder.decode(RoutedEvent.self, from: delivery.body)
        } catch {
            let detail = DecodingErrorText.describe(error)
            logger.warn("webhook rejected", ["reason": "malformed_json", "detail": .string(detail)])
            return .failed(type: nil, Failure(.malformedJSON, "body is not a Clerk event: \(detail)"))
        }
        guard accepted.contains(event.type), let (route, reading) = event.routed else {
            logger.info("webhook ignored", ["type": .string(event.type)])
            return .ignored(type: event.type)
        }
        let meta = EventMeta(
            deliveryId: delivery.id, environment: delivery.environment,
            dataJSON: RoutedEvent.dataJSON(of: delivery.body), timestamp: event.timestamp)
        let change = reading(meta)
        let applied: AppliedChange
        do {
            applied = try change.apply(to: store)
        } catch .query(let sqlState, _) where sqlState.hasPrefix("22") {
            // Only what the server refused: a column we failed to decode (also "22…") is our bug, not the data's.
            return reject(change, type: event.type, delivery: delivery, sqlState: sqlState, logger: logger)
        } catch {
            logger.error(
                "webhook not applied",
                [
                    "reason": error.isTransient ? "database_unavailable" : "database_error",
                    "sqlState": .string(error.sqlState), "type": .string(event.type)
                ])
            return .failed(type: event.type, Self.storeFailure(error))
        }
        var log = logger
        if applied.nulRemoved + rawNUL > 0 { log = log.with("nulRemoved", .int(Int64(applied.nulRemoved + rawNUL))) }
        log.info(
            "webhook applied",
            [
                "type": .string(event.type), "status": .string(applied.status.rawValue),
                change.clerkIdField: .string(change.clerkId),
                change.answerKey.rawValue: .string(applied.id?.postgresText ?? "")
            ])
        guard route.issuesAPIKey, let issuer, let userChange = change as? UserChange, let userId = applied.id else {
            return .applied(type: event.type, applied, key: change.answerKey, apiKey: nil)
        }
        return issuer.issue(userId: userId, for: userChange, type: event.type, applied: applied, context: context, logger: log)
    }

    /// A data error fails the same way on every retry: the delivery is recorded as rejected, and not retried.
    private func reject(_ change: any StoreChange, type: String, delivery: Delivery, sqlState: String, logger: Logger) -> DeliveryOutcome {
        var fields: [String: LogValue] = ["reason": "data_error", "sqlState": .string(sqlState), "type": .string(type)]
        if let clerkUserId = change.clerkUserId { fields["clerkUserId"] = .string(clerkUserId) }
        logger.error("webhook rejected", metadata: fields)
        do {
            // The store cleans what it keeps (NUL), as for every other write.
            try store.recordRejected(
                RejectedDelivery(
                    deliveryId: delivery.id, environment: delivery.environment, eventType: type,
                    clerkUserId: change.clerkUserId, source: delivery.source, sqlState: sqlState,
                    body: String(decoding: delivery.body, as: UTF8.self)))
        } catch {
            logger.error(
                "rejection not recorded",
                [
                    "reason": error.isTransient ? "database_unavailable" : "database_error",
                    "sqlState": .string(error.sqlState)
                ])
            return .failed(type: type, Self.storeFailure(error))
        }
        return .rejected(type: type, sqlState: sqlState)
    }

    /// A store error as the delivery's answer: retried when the database is away, a failure otherwise.
    static func storeFailure(_ error: PostgresError) -> Failure {
        error.isTransient
            ? Failure(.databaseUnavailable, "the database is unavailable; the delivery will be retried")
            : Failure(.internalError, "the delivery could not be stored")
    }
}
