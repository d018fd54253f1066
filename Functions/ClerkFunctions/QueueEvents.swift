import JSON
import ClerkKit
import LambdaRuntime
import Store

/// A transient failure somewhere in an Amazon MQ batch: the whole batch goes back to the queue (the MQ
/// trigger has no partial-batch response), and deduplication by delivery id makes the redelivered good
/// messages harmless.
struct QueueBatchRetry: LambdaReportableError {
    let failed: Int
    var errorType: String { "QueueBatchRetry" }
    var errorMessage: String { "\(failed) message(s) hit a retryable failure; the batch will be redelivered" }
}

/// A queue event (it names `Records` or `rmqMessagesByQueue`) that does not decode: answering it as an HTTP
/// request (400) would be a success to Lambda, which acknowledges the whole batch, good messages included.
/// Failing sends it back to the queue, whose own redrive or dead-lettering then takes over.
struct QueueBatchUnreadable: LambdaReportableError {
    /// What the decoder refused (a kind and a path, never a value).
    let reason: String
    var errorType: String { "QueueBatchUnreadable" }
    var errorMessage: String { "the queue batch could not be read (\(reason)); it goes back to the queue" }
}

/// Clerk events delivered by a queue instead of HTTP: SQS (`Records[]`) and Amazon MQ for RabbitMQ
/// (`rmqMessagesByQueue`, base64 `data`). Each message body is a Clerk event with the original Svix headers
/// as message attributes / AMQP headers, verified; a message without them is refused unless
/// `CLERK_QUEUE_REQUIRE_SIGNATURE=false` (anyone who can write to the queue could otherwise tombstone a
/// user). A queued message may wait longer than Svix's 5-minute window, so the timestamp is not checked
/// here: deduplication by delivery id closes the replay window instead.
struct QueueEventHandler: Sendable {
    let requireSignature: Bool

    /// `CLERK_QUEUE_REQUIRE_SIGNATURE`, true unless set to false, which is logged at init.
    static func requireSignature(_ ctx: InitContext) throws -> Bool {
        let required = try ctx.environment.flag("CLERK_QUEUE_REQUIRE_SIGNATURE", default: true)
        if !required {
            ctx.logger.warn("CLERK_QUEUE_REQUIRE_SIGNATURE=false: queued events without Svix headers are accepted unverified")
        }
        return required
    }
    let defaultEnvironment: String
    /// The webhook secrets without the timestamp window (made once, not per message).
    let verifier: WebhookVerifier

    enum Source: String { case sqs, rabbitmq }

    struct Message {
        var id: String
        var body: [UInt8]
        var headers: [String: String]
        /// Why the message is refused before it is read (`data_not_base64`: `body` is then the text as it came).
        var refusal: String?
    }

    struct Batch {
        var source: Source
        var messages: [Message]
    }

    private struct Raw: Decodable {
        struct Attribute: Decodable { var stringValue: String? }
        struct SQSRecord: Decodable {
            var messageId: String
            var body: String
            var messageAttributes: NamedMembers<Attribute>?
        }
        struct RMQMessage: Decodable {
            struct Properties: Decodable {
                var messageId: String?
                var headers: NamedMembers<HeaderValue>?
            }
            var basicProperties: Properties?
            var data: String
        }
        /// AMQP header values arrive as strings or as `{"bytes": […]}`.
        enum HeaderValue: Decodable {
            case text(String), other
            struct Bytes: Decodable { var bytes: [UInt8] }
            init(from decoder: any Decoder) throws {
                let c = try decoder.singleValueContainer()
                if let s = try? c.decode(String.self) { self = .text(s) }
                else if let b = try? c.decode(Bytes.self) { self = .text(String(decoding: b.bytes, as: UTF8.self)) }
                else { self = .other }
            }
        }
        var Records: [SQSRecord]?
        var rmqMessagesByQueue: NamedMembers<[RMQMessage]>?
    }

    /// The batch in `event`, or nil when it is not a queue event (an HTTP request, say); throws
    /// `QueueBatchUnreadable` for a queue event that does not decode (the decoder's strict rules included).
    func batch(_ event: [UInt8]) throws -> Batch? {
        guard contains(event, "\"Records\"") || contains(event, "\"rmqMessagesByQueue\"") else { return nil }
        let raw: Raw
        do {
            raw = try JSONCoding.decoder.decode(Raw.self, from: event)
        } catch {
            throw QueueBatchUnreadable(reason: DecodingErrorText.describe(error))
        }
        if let records = raw.Records {
            return Batch(source: .sqs, messages: records.map { r in
                var headers: [String: String] = [:]
                // Names that lower-case alike: the last in byte order (the all-lower-case spelling) wins.
                for (k, v) in r.messageAttributes?.byNameBytes ?? [] { if let s = v.stringValue { headers[k.lowercased()] = s } }
                return Message(id: r.messageId, body: Array(r.body.utf8), headers: headers)
            })
        }
        if let byQueue = raw.rmqMessagesByQueue {
            var messages: [Message] = []
            for (queue, list) in byQueue.byNameBytes {
                for (i, m) in list.enumerated() {
                    var headers: [String: String] = [:]
                    for (k, v) in m.basicProperties?.headers?.byNameBytes ?? [] { if case .text(let s) = v { headers[k.lowercased()] = s } }
                    // Not base64: kept as it came and refused, never read as an empty body (which lost it).
                    let body = Base64.decode(m.data)
                    messages.append(Message(id: m.basicProperties?.messageId ?? "\(queue)#\(i)", body: body ?? Array(m.data.utf8),
                                            headers: headers, refusal: body == nil ? "data_not_base64" : nil))
                }
            }
            return Batch(source: .rabbitmq, messages: messages)
        }
        return nil
    }

    private func contains(_ bytes: [UInt8], _ text: StaticString) -> Bool {
        let needle = UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
        guard bytes.count >= needle.count else { return false }
        outer: for i in 0...(bytes.count - needle.count) where bytes[i] == needle[0] {
            for j in 1..<needle.count where bytes[i + j] != needle[j] { continue outer }
            return true
        }
        return false
    }

    enum Failure { case retryable(String), permanent(String) }

    /// Applies every message; answers `{"batchItemFailures": […]}`.
    func handle(_ batch: Batch, function: WebhookFunction, context: Context) throws -> [UInt8] {
        var failures: [(Message, Failure)] = []
        var applied = 0
        for message in batch.messages {
            let log = context.logger.with("messageId", .string(message.id)).with("source", .string(batch.source.rawValue))
            if let failure = process(message, source: batch.source, function: function, context: context, log: log) {
                failures.append((message, failure))
            } else {
                applied += 1
            }
        }
        // Per message, as this invocation decided it: an alarm on Rejected finds messages set aside for a
        // person (SQS: on their way to the dead-letter queue), one on Retried a broker redelivering in a loop.
        // A refusal Amazon MQ could not keep goes back with its batch, so it counts as retried.
        func count(rejected: Int) {
            Metrics.shared.emit([("QueueApplied", Double(applied), .count), ("QueueRejected", Double(rejected), .count),
                                 ("QueueRetried", Double(failures.count - rejected), .count)],
                                dimensions: [("source", batch.source.rawValue)])
        }
        function.publishOutboxIfCheap(context)
        switch batch.source {
        case .sqs:
            count(rejected: failures.filter { if case .permanent = $0.1 { return true } else { return false } }.count)
            // Every failed message goes back; SQS's redrive policy moves a hopeless one to its dead-letter queue.
            let items = failures.map { JSONValue.object(["itemIdentifier": .string($0.0.id)]) }
            return Array(JSONValue.object(["batchItemFailures": .array(items)]).serialized().utf8)
        case .rabbitmq:
            let retryable = failures.filter { if case .retryable = $0.1 { return true } else { return false } }
            var kept = 0
            for (message, failure) in failures {
                guard case .permanent(let reason) = failure else { continue }
                // Kept, not lost: the body waits in queue_rejects for a person.
                do {
                    try DeliveryRejection(connection: function.database.connection)
                        .keep(source: "rabbitmq", messageId: message.id, reason: reason, body: message.body)
                    kept += 1
                } catch {
                    // Not kept: send it back rather than lose it (the queue's own dead-lettering takes over).
                    context.logger.warn("queued event could not be kept", ["messageId": .string(message.id), "sqlState": .string(error.sqlState)])
                    count(rejected: kept)
                    throw QueueBatchRetry(failed: failures.count)
                }
            }
            count(rejected: kept)
            if !retryable.isEmpty { throw QueueBatchRetry(failed: retryable.count) }
            return Array(#"{"batchItemFailures":[],"applied":\#(applied),"rejected":\#(failures.count)}"#.utf8)
        }
    }

    private func process(_ message: Message, source: Source, function: WebhookFunction, context: Context, log: Logger) -> Failure? {
        if let refusal = message.refusal {
            log.warn("queued event rejected", ["reason": .string(refusal)])
            return .permanent(refusal)
        }
        var environment = defaultEnvironment
        var deliveryId = message.headers["svix-id"] ?? message.headers["webhook-id"] ?? message.id
        if message.headers["svix-signature"] != nil || message.headers["webhook-signature"] != nil {
            do {
                let verified = try verifier.verify(header: { message.headers[$0] }, body: message.body, now: Clock.nowSeconds())
                environment = verified.environment
                deliveryId = verified.messageId
            } catch {
                log.warn("queued event rejected", ["reason": .string(error.reason)])
                return .permanent(error.reason)
            }
        } else if requireSignature {
            log.warn("queued event rejected", ["reason": "signature_required"])
            return .permanent("signature_required")
        }
        // An unsigned message names its own delivery id. Svix's ids are about 30 bytes and an AMQP id at most
        // 255; a longer one cannot be indexed (PostgreSQL's btree limit), so its every delivery failed and its
        // batch came back for good.
        guard deliveryId.utf8.count <= 256 else {
            log.warn("queued event rejected", ["reason": "delivery_id_too_long"])
            return .permanent("delivery_id_too_long")
        }
        var log = log
        // NUL (raw or \u0000), which PostgreSQL cannot store, removed after the signature check.
        let (body, nulRemoved) = PostgresText.removingNUL(fromJSON: message.body)
        if nulRemoved > 0 { log = log.with("nulRemoved", .int(Int64(nulRemoved))) }
        let event: ClerkEvent
        do {
            event = try function.events.event(body)
        } catch {
            log.warn("queued event rejected", ["reason": "malformed_json", "detail": .string(DecodingErrorText.describe(error))])
            return .permanent("malformed_json")
        }
        switch function.apply(event, deliveryId: deliveryId, environment: environment, rawBody: body,
                              context: context, logger: log.with("svixId", .string(deliveryId)), source: source.rawValue) {
        case .applied, .appliedOrganization, .ignored: return nil
        case .rejected: return nil  // recorded with the delivery; a redelivery is a duplicate
        case .retryable(let code, _): return .retryable(code)
        case .failed(let code, _): return .retryable(code)
        case .conflict(let code, _): return .retryable(code)
        }
    }
}
