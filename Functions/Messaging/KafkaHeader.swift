/// One Kafka record header.
public struct KafkaHeader: Sendable, Equatable {
    /// The header's name.
    public var name: String
    /// Its value.
    public var value: String
    /// Creates a header.
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}
