import ClerkKit
import JSON
import LambdaRuntime
import Store

/// A webhook function: the HTTP and queue adapters in front of the one `WebhookHandler`.
///
/// Status codes tell Svix whether to retry: 2xx delivered; 4xx (malformed, unauthenticated, too large)
/// never succeeds on retry; 5xx when a retry may help (the database or the profile service away). Queues get
/// the same decision per message: a retryable outcome goes back, a permanent one is set aside.
public struct WebhookFunction: Handler {
    /// The registered name (for logs).
    public let name: String
    let config: WebhookConfig
    let gate: DeliveryGate
    let handler: WebhookHandler
    let database: DatabaseSession
    let relay: OutboxRelay?

    /// Sets up the function for `types` (each must be in `EventRegistry`): webhook secrets and database are
    /// required; the profile service (`PROFILE_SERVICE_URL`) and the brokers are optional.
    public init(name: String, accepts types: Set<String>, _ ctx: InitContext) throws {
        let unregistered = types.subtracting(EventRegistry.byType.keys)
        guard unregistered.isEmpty, !types.isEmpty else {
            throw ConfigError.invalid(name, why: "accepts no event type, or unregistered ones: \(unregistered.sorted().joined(separator: ", "))")
        }
        self.name = name
        let settings = Settings(ctx.environment)
        config = try WebhookConfig(environment: ctx.environment)
        gate = try DeliveryGate(config: config, settings: settings, logger: ctx.logger)
        let database = try DatabaseSession(environment: ctx.environment, logger: ctx.logger)
        self.database = database
        let issuer = try ProfileServiceClient(settings: settings).map {
            APIKeyIssuer(keys: PostgresAPIKeys(database: database), profile: $0)
        }
        handler = WebhookHandler(accepted: types, store: PostgresEventStore(database: database), issuer: issuer)
        relay = try OutboxRelay(environment: ctx.environment)
    }

    public func handle(_ event: [UInt8], context: Context) throws -> [UInt8] {
        let batch: QueueBatch?
        do {
            batch = try QueueBatch.decode(event)
        } catch {
            context.logger.warn("queue batch unreadable, sent back", ["reason": .string(error.reason)])
            throw error
        }
        defer { publishOutboxIfCheap(context) }
        if let batch { return try receive(batch, context: context) }
        return APIResponse(respond(to: event, context: context)).encoded()
    }

    /// One HTTP delivery, from the event to its outcome; counted (metric `WebhookOutcome` by status and type).
    func respond(to event: [UInt8], context: Context) -> DeliveryOutcome {
        let outcome = receive(http: event, context: context)
        let type = outcome.eventType.map { handler.accepted.contains($0) ? $0 : "other" } ?? "unknown"
        context.metrics.count("WebhookOutcome", dimensions: [("status", String(outcome.status)), ("eventType", type)])
        return outcome
    }

    private func receive(http event: [UInt8], context: Context) -> DeliveryOutcome {
        let log = context.logger
        let request: APIRequest
        do {
            request = try APIRequest.decode(event)
        } catch {
            log.warn("webhook rejected", ["reason": "malformed_request", "detail": .string("\(error)")])
            return .failed(type: nil, Failure(.malformedRequest, "expected an API Gateway or Function URL request"))
        }
        guard request.body.count <= config.maxBodyBytes else {
            log.warn("webhook rejected", ["reason": "payload_too_large", "bytes": .int(Int64(request.body.count))])
            return .failed(type: nil, Failure(.payloadTooLarge, "body exceeds \(config.maxBodyBytes) bytes"))
        }
        switch gate.admit(headers: { request.headers[$0] }, body: request.body) {
        case .failure(let error):
            var fields: KeyValuePairs<String, LogValue> = ["reason": .string(error.reason)]
            if case .missingHeaders(let names) = error {
                fields = ["reason": .string(error.reason), "missing": .string(names.joined(separator: ","))]
            }
            log.warn("webhook rejected", fields)
            return .failed(type: nil, Failure(FailureCode(error), "webhook verification failed"))
        case .success(let delivery):
            let scoped = log.with("svixId", .string(delivery.id)).with("environment", .string(delivery.environment))
            return handler.deliver(delivery, context: context, logger: scoped)
        }
    }

    /// After a delivery, send what the outbox holds when there is time; failures only log (the scheduled
    /// `publishOutbox` catches up). It runs after the response is posted, so Svix gets its answer without
    /// waiting for the broker.
    private func publishOutboxIfCheap(_ context: Context) {
        guard relay != nil else { return }
        context.afterResponse { [self] in
            guard let relay, context.remainingTimeMs > 3000 else { return }
            do {
                let outcome = try relay.publishPending(database.connection, maxBatches: 1, context: context)
                if let error = outcome.error {
                    context.logger.warn(
                        "outbox publish deferred",
                        [
                            "reason": .string(error), "cause": .string(outcome.outage?.reason ?? "other"),
                            "published": .int(Int64(outcome.published))
                        ])
                }
            } catch {
                context.logger.warn("outbox publish deferred", ["reason": .string("\(error)")])
            }
        }
    }
}
