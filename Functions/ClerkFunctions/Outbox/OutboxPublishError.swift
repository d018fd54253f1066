import JSON
import LambdaRuntime
import Messaging
import Store

/// The broker could not take the outbox's messages; they stay pending, nothing is lost.
struct OutboxPublishError: LambdaReportableError {
    let reason: String
    /// The outage's class (`authorization`, `topic`, `unavailable`…).
    let cause: String
    let published: Int
    var errorType: String { "OutboxPublishError" }
    var errorMessage: String { "published \(published), then (\(cause)): \(reason); the rest stay in the outbox, in order" }
}
