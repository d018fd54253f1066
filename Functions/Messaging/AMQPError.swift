/// Why a message could not be published (or confirmed).
public enum AMQPError: Error, CustomStringConvertible, Sendable {
    /// `RABBITMQ_URL` is not an amqp:// or amqps:// URL.
    case invalidURL
    /// TCP connection, login, or channel setup failed.
    case connectionFailed(String)
    /// An `amqps://` broker could not be reached securely: no CA, an untrusted or misnamed certificate.
    case tls(String)
    /// The broker refused or did not confirm a publish in time (nothing is marked sent).
    case notConfirmed(String)

    public var description: String {
        switch self {
        case .invalidURL: "RABBITMQ_URL is not an amqp:// or amqps:// URL"
        case .connectionFailed(let why): "cannot reach RabbitMQ: \(why)"
        case .tls(let why): "cannot reach RabbitMQ over TLS: \(why)"
        case .notConfirmed(let why): "RabbitMQ did not confirm: \(why)"
        }
    }
}
