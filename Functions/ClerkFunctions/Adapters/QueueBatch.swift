import ClerkKit
import JSON
import LambdaRuntime

/// A queue event (it names `Records` or `rmqMessagesByQueue`) that does not decode: answering it as an HTTP
/// request (400) would be a success to Lambda, which acknowledges the whole batch, good messages included.
/// Failing sends it back to the queue, whose own redrive or dead-lettering then takes over.
struct QueueBatchUnreadable: LambdaReportableError {
    /// What the decoder refused (a kind and a path, never a value).
    let reason: String
    var errorType: String { "QueueBatchUnreadable" }
    var errorMessage: String { "the queue batch could not be read (\(reason)); it goes back to the queue" }
}

/// Clerk events delivered by a queue instead of HTTP, decoded from their envelope: SQS (`Records[]`) or
/// Amazon MQ for RabbitMQ (`rmqMessagesByQueue`, base64 `data`). Each message is a Clerk event body with the
/// original Svix headers as message attributes or AMQP headers.
struct QueueBatch: Sendable {
    /// One queued message.
    struct Message: Sendable {
        /// The queue's message id (SQS `messageId`, AMQP `message-id`, else `queue#index`).
        var id: String
        /// The event body.
        var body: [UInt8]
        /// Svix headers and other attributes, lower-cased names.
        var headers: [String: String]
        /// Why the message is refused before it is read (`data_not_base64`: `body` is then the text as it came).
        var refusal: String?
    }

    /// `sqs` or `rabbitmq`.
    var source: DeliverySource
    /// The messages in delivery order.
    var messages: [Message]

    /// The batch in `event`, or nil when it is not a queue event (an HTTP request, say); throws
    /// `QueueBatchUnreadable` for a queue event that does not decode (the decoder's strict rules included).
    static func decode(_ event: [UInt8]) throws(QueueBatchUnreadable) -> QueueBatch? {
        guard contains(event, "\"Records\"") || contains(event, "\"rmqMessagesByQueue\"") else { return nil }
        let raw: QueueEnvelope
        do {
            raw = try JSONCoding.decoder.decode(QueueEnvelope.self, from: event)
        } catch {
            throw QueueBatchUnreadable(reason: DecodingErrorText.describe(error))
        }
        if let records = raw.Records { return QueueBatch(source: .sqs, messages: records.map(Message.init)) }
        if let byQueue = raw.rmqMessagesByQueue {
            var messages: [Message] = []
            for (queue, list) in byQueue.byNameBytes {
                for (i, m) in list.enumerated() { messages.append(Message(m, fallbackId: "\(queue)#\(i)")) }
            }
            return QueueBatch(source: .rabbitmq, messages: messages)
        }
        return nil
    }

    private static func contains(_ bytes: [UInt8], _ text: StaticString) -> Bool {
        let needle = UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
        guard bytes.count >= needle.count else { return false }
        outer: for i in 0...(bytes.count - needle.count) where bytes[i] == needle[0] {
            for j in 1..<needle.count where bytes[i + j] != needle[j] { continue outer }
            return true
        }
        return false
    }
}

extension QueueBatch.Message {
    init(_ r: QueueEnvelope.SQSRecord) {
        var headers: [String: String] = [:]
        // Names that lower-case alike: the last in byte order (the all-lower-case spelling) wins.
        for (k, v) in r.messageAttributes?.byNameBytes ?? [] { if let s = v.stringValue { headers[k.lowercased()] = s } }
        self.init(id: r.messageId, body: Array(r.body.utf8), headers: headers)
    }

    init(_ m: QueueEnvelope.RMQMessage, fallbackId: String) {
        var headers: [String: String] = [:]
        for (k, v) in m.basicProperties?.headers?.byNameBytes ?? [] { if case .text(let s) = v { headers[k.lowercased()] = s } }
        // Not base64: kept as it came and refused, never read as an empty body (which lost it).
        let body = Base64.decode(m.data)
        self.init(
            id: m.basicProperties?.messageId ?? fallbackId, body: body ?? Array(m.data.utf8), headers: headers,
            refusal: body == nil ? "data_not_base64" : nil)
    }
}

/// The two queue envelopes as Lambda delivers them.
struct QueueEnvelope: Decodable {
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
        case text(String)
        case other
        struct Bytes: Decodable { var bytes: [UInt8] }
        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let s = try? c.decode(String.self) {
                self = .text(s)
            } else if let b = try? c.decode(Bytes.self) {
                self = .text(String(decoding: b.bytes, as: UTF8.self))
            } else {
                self = .other
            }
        }
    }
    var Records: [SQSRecord]?
    var rmqMessagesByQueue: NamedMembers<[RMQMessage]>?
}
