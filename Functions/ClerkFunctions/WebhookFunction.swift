import JSON
import ClerkKit
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
    let config: WebhookConfig
    let database: DatabaseSession
    let events = ClerkEventDecoder()
    private let issuer: APIKeyIssuer?
    private let relay: OutboxRelay?
    let queue: QueueEventHandler

    /// Sets up the function: webhook secrets and database are required; the profile service
    /// (`PROFILE_SERVICE_URL`) and RabbitMQ (`RABBITMQ_URL`) are optional.
    public init(name: String, handles types: Set<String>, _ ctx: InitContext) throws {
        self.name = name
        handledTypes = types
        config = try WebhookConfig(environment: ctx.environment)
        database = try DatabaseSession(environment: ctx.environment, logger: ctx.logger)
        issuer = ProfileServiceClient(environment: ctx.environment).map { APIKeyIssuer(profile: $0) }
        relay = try OutboxRelay(environment: ctx.environment)
        queue = QueueEventHandler(requireSignature: try QueueEventHandler.requireSignature(ctx),
                                  defaultEnvironment: ctx.environment["CLERK_ENVIRONMENT"] ?? "production",
                                  verifier: WebhookVerifier(entries: config.verifier.entries, toleranceSeconds: Int64(Int32.max)))
    }

    public func handle(_ event: [UInt8], context: Context) throws -> [UInt8] {
        let batch: QueueEventHandler.Batch?
        do {
            batch = try queue.batch(event)
        } catch let error as QueueBatchUnreadable {
            context.logger.warn("queue batch unreadable, sent back", ["reason": .string(error.reason)])
            throw error
        }
        if let batch { return try queue.handle(batch, function: self, context: context) }
        let response = respond(to: event, context: context)
        publishOutboxIfCheap(context)
        return response.encoded()
    }

    /// After a delivery, send what the outbox holds when there is time; failures only log (the
    /// scheduled `publishOutbox` catches up). It runs after the response is posted, so Svix gets its
    /// answer without waiting for the broker.
    func publishOutboxIfCheap(_ context: Context) {
        guard relay != nil else { return }
        context.afterResponse { [self] in
            guard let relay, context.remainingTimeMs > 3000 else { return }
            do {
                let outcome = try relay.publishPending(database.connection, maxBatches: 1, context: context)
                if let error = outcome.error {
                    context.logger.warn("outbox publish deferred", ["reason": .string(error), "cause": .string(outcome.outage?.reason ?? "other"),
                                                                    "published": .int(Int64(outcome.published))])
                }
            } catch {
                context.logger.warn("outbox publish deferred", ["reason": .string("\(error)")])
            }
        }
    }

    /// The whole pipeline for one event; its outcome is counted (metric `WebhookOutcome` by status and type).
    public func respond(to event: [UInt8], context: Context) -> APIResponse {
        let (response, eventType) = pipeline(event, context: context)
        Metrics.shared.count("WebhookOutcome", dimensions: [("status", String(response.statusCode)), ("eventType", eventType)])
        return response
    }

    /// The event type as a metric dimension: the types this function handles by name, every other one as
    /// `other` (a closed set, whatever arrives).
    func metricType(_ type: String) -> String { handledTypes.contains(type) ? type : "other" }

    private func pipeline(_ event: [UInt8], context: Context) -> (APIResponse, String) {
        let log = context.logger
        let request: APIRequest
        do {
            request = try APIRequest.decode(event)
        } catch {
            log.warn("webhook rejected", ["reason": "malformed_request", "detail": .string("\(error)")])
            return (.error(400, "malformed_request", "expected an API Gateway or Function URL request"), "unknown")
        }
        if request.body.count > config.maxBodyBytes {
            log.warn("webhook rejected", ["reason": "payload_too_large", "bytes": .int(Int64(request.body.count))])
            return (.error(413, "payload_too_large", "body exceeds \(config.maxBodyBytes) bytes"), "unknown")
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
            return (.error(error.httpStatus, error.reason, "webhook verification failed"), "unknown")
        }
        var log2 = log.with("svixId", .string(verified.messageId)).with("environment", .string(verified.environment))
        // Verified as sent; NUL (raw or \u0000), which PostgreSQL cannot store, removed before anything reads it.
        let (body, nulRemoved) = PostgresText.removingNUL(fromJSON: request.body)
        if nulRemoved > 0 { log2 = log2.with("nulRemoved", .int(Int64(nulRemoved))) }
        let clerkEvent: ClerkEvent
        do {
            clerkEvent = try events.event(body)
        } catch {
            log2.warn("webhook rejected", ["reason": "malformed_json", "detail": .string(DecodingErrorText.describe(error))])
            return (.error(400, "malformed_json", "body is not a Clerk event: \(DecodingErrorText.describe(error))"), "unknown")
        }
        switch apply(clerkEvent, deliveryId: verified.messageId, environment: verified.environment,
                     rawBody: body, context: context, logger: log2) {
        case .applied(let result, let apiKey):
            return (.json(200, WebhookResult(status: result.status.rawValue, userId: result.userId?.postgresText, apiKey: apiKey)), metricType(clerkEvent.type))
        case .appliedOrganization(let result, let key):
            return (.json(200, ["status": result.status.rawValue, key: result.id?.postgresText]), metricType(clerkEvent.type))
        case .ignored(let type):
            return (.json(202, ["status": "ignored", "type": type]), metricType(clerkEvent.type))
        case .retryable(let code, let message):
            return (.error(code == "database_unavailable" ? 503 : 502, code, message), metricType(clerkEvent.type))
        case .failed(let code, let message):
            return (.error(500, code, message), metricType(clerkEvent.type))
        case .conflict(let code, let message):
            return (.error(409, code, message), metricType(clerkEvent.type))
        case .rejected(let code, let sqlState):
            return (.json(200, ["status": "rejected", "error": code, "sqlState": sqlState]), metricType(clerkEvent.type))
        }
    }

    /// What applying one event came to.
    enum Applied {
        case applied(SyncResult, apiKey: String?)
        /// An organization or membership event; `key` names the id in the answer.
        case appliedOrganization(OrganizationSyncResult, key: String)
        case ignored(String)
        /// A retry may succeed (database or profile service down).
        case retryable(code: String, message: String)
        /// A retry will not help unless something is fixed.
        case failed(code: String, message: String)
        /// Another delivery of the same user is busy (or won): come back later.
        case conflict(code: String, message: String)
        /// PostgreSQL refused the data itself (SQLSTATE class 22): recorded, answered 200, never retried.
        case rejected(code: String, sqlState: String)
    }

    /// Applies one verified Clerk event: the user sync, then (for `user.created`) the API key.
    func apply(_ clerkEvent: ClerkEvent, deliveryId: String, environment: String, rawBody: [UInt8], context: Context,
               logger log2: Logger, source: String = "webhook") -> Applied {
        guard handledTypes.contains(clerkEvent.type) else {
            log2.info("webhook ignored", ["type": .string(clerkEvent.type)])
            return .ignored(clerkEvent.type)
        }
        let change: UserChange
        switch clerkEvent.payload {
        case .user(let user):
            change = UserChange(
                kind: clerkEvent.type == "user.created" ? .created : .updated, deliveryId: deliveryId,
                environment: environment, clerkUserId: user.id, email: user.primaryEmail,
                firstName: user.firstName, lastName: user.lastName, username: user.username, imageUrl: user.imageUrl,
                createdAtMs: user.createdAt, updatedAtMs: user.updatedAt ?? clerkEvent.timestamp,
                rawBody: String(decoding: rawBody, as: UTF8.self))
        case .deleted(let deleted):
            change = UserChange(kind: .deleted, deliveryId: deliveryId, environment: environment,
                                clerkUserId: deleted.id, rawBody: String(decoding: rawBody, as: UTF8.self))
        case .organization, .organizationDeleted, .membership, .membershipDeleted:
            return applyOrganization(clerkEvent, deliveryId: deliveryId, environment: environment, rawBody: rawBody,
                                     source: source, logger: log2)
        case .other:
            return .ignored(clerkEvent.type)
        }
        let result: SyncResult
        do {
            result = try UserStore(connection: database.connection).apply(change)
            log2.info("webhook applied", ["type": .string(clerkEvent.type), "status": .string(result.status.rawValue),
                                          "clerkUserId": .string(change.clerkUserId),
                                          "userId": .string(result.userId?.postgresText ?? "")])
        } catch .query(let sqlState, _) where sqlState.hasPrefix("22") {
            // Only what the server refused: a column we failed to decode (also "22…") is our bug, not the data's.
            let clean = change.removingNUL().change
            return reject(deliveryId: clean.deliveryId, environment: clean.environment, eventType: clean.kind.rawValue,
                          clerkUserId: clean.clerkUserId, rawBody: clean.rawBody, sqlState: sqlState, source: source, logger: log2)
        } catch {
            log2.error("webhook not applied", ["reason": error.isTransient ? "database_unavailable" : "database_error",
                                               "sqlState": .string(error.sqlState)])
            return Self.storeFailure(error)
        }
        guard let issuer, change.kind == .created, let userId = result.userId else { return .applied(result, apiKey: nil) }
        do {
            let outcome = try issuer.ensureKey(userId: userId, change: change, connection: database.connection, context: context)
            return .applied(result, apiKey: outcome.rawValue)
        } catch let error as APIKeyConflict {
            log2.warn("api key not issued", ["reason": "api_key_conflict", "detail": .string(error.reason)])
            return .conflict(code: "api_key_conflict", message: "another delivery is issuing this user's key; retry later")
        } catch let error as ProfileServiceUnavailable {
            log2.error("api key not delivered", ["reason": "profile_service_unavailable", "detail": .string(error.description)])
            return .retryable(code: "profile_service_unavailable", message: "the profile service is unavailable; the delivery will be retried")
        } catch let error as PostgresError {
            log2.error("api key not recorded", ["reason": "database_unavailable", "sqlState": .string(error.sqlState)])
            return .retryable(code: "database_unavailable", message: "the database is unavailable; the delivery will be retried")
        } catch {
            log2.error("api key not issued", ["reason": "internal_error"])
            return .retryable(code: "internal_error", message: "the key could not be issued; the delivery will be retried")
        }
    }

    /// A data error fails the same way on every retry: record the delivery as rejected and stop Svix.
    func reject(deliveryId: String, environment: String, eventType: String, clerkUserId: String?, rawBody: String,
                sqlState: String, source: String, logger log2: Logger) -> Applied {
        var fields: [String: LogValue] = ["reason": "data_error", "sqlState": .string(sqlState), "type": .string(eventType)]
        if let clerkUserId { fields["clerkUserId"] = .string(clerkUserId) }
        log2.error("webhook rejected", metadata: fields)
        do {
            try DeliveryRejection(connection: database.connection).record(
                deliveryId: deliveryId, environment: environment, eventType: eventType, clerkUserId: clerkUserId,
                source: source, reason: "data_error \(sqlState)", rawBody: rawBody)
        } catch {
            log2.error("rejection not recorded", ["reason": error.isTransient ? "database_unavailable" : "database_error",
                                                  "sqlState": .string(error.sqlState)])
            return Self.storeFailure(error)
        }
        return .rejected(code: "data_error", sqlState: sqlState)
    }

    /// A store error as the delivery's answer: retried when the database is away, a failure otherwise.
    static func storeFailure(_ error: PostgresError) -> Applied {
        error.isTransient
            ? .retryable(code: "database_unavailable", message: "the database is unavailable; the delivery will be retried")
            : .failed(code: "internal_error", message: "the delivery could not be stored")
    }

    private struct WebhookResult: Encodable {
        var status: String
        var userId: String?
        var apiKey: String?
    }
}
