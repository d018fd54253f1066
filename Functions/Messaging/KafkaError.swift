/// Why Kafka did not take the messages.
public enum KafkaError: Error, CustomStringConvertible, Equatable {
    /// A setting librdkafka refused (the name and librdkafka's words; never a setting's value).
    case invalidConfiguration(String)
    /// The client could not be made.
    case clientFailed(String)
    /// Nothing was delivered; the reason is the broker's or the client's.
    case notDelivered(String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let why): "Kafka configuration refused: \(why)"
        case .clientFailed(let why): "Kafka client could not start: \(why)"
        case .notDelivered(let why): "Kafka did not take the messages: \(why)"
        }
    }
}
