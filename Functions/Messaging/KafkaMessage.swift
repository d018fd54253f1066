/// A message for Kafka: its topic, the key that keeps one entity's messages in one partition (in order),
/// the value bytes and headers.
public struct KafkaMessage: Sendable {
    /// The topic.
    public var topic: String
    /// The partitioning key (nil: librdkafka picks the partition).
    public var key: String?
    /// The value bytes (JSON here).
    public var value: [UInt8]
    /// Headers, in order.
    public var headers: [KafkaHeader]
    /// Creates a message.
    public init(topic: String, key: String?, value: [UInt8], headers: [KafkaHeader] = []) {
        self.topic = topic
        self.key = key
        self.value = value
        self.headers = headers
    }
}
