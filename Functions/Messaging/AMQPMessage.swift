/// One message to publish: a queue and a body.
public struct AMQPMessage: Sendable {
    /// The queue (published through the default exchange, so the routing key is the queue name).
    public var queue: String
    /// The body bytes (JSON here).
    public var body: [UInt8]
    /// The AMQP `message-id` property (the outbox id: consumers dedupe on it), when set.
    public var messageId: String?
    /// Application headers (string values), e.g. the trace id.
    public var headers: [(name: String, value: String)]
    /// Creates a message.
    public init(queue: String, body: [UInt8], messageId: String? = nil, headers: [(name: String, value: String)] = []) {
        self.queue = queue
        self.body = body
        self.messageId = messageId
        self.headers = headers
    }
}
