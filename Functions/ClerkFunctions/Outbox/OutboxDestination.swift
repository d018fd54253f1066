import HTTPClient
import JSON
import LambdaRuntime
import Messaging
import Store

#if canImport(Glibc)
    import Glibc
#endif

/// A broker the outbox relays to. `publish` sends a batch in order and answers how many leading messages the
/// broker confirmed, why it stopped short, whether the message it stopped at is refused for good, and which
/// messages a later message of their key overtook; the relay marks a row published when every destination did.
protocol OutboxDestination: AnyObject {
    /// `rabbitmq` or `kafka`, for logs and answers.
    var name: String { get }
    func publish(_ batch: [OutboxMessage], budgetMs: Int, traceId: String) -> OutboxSendResult
}
