import LambdaRuntime
import Logging

/// A context for a handler called directly: thirty seconds left unless told, logs dropped.
func unitContext(remainingMs: Int64 = 30_000, traceId: String = "") -> Context {
    Context(
        requestId: "unit", deadlineMs: Clock.nowMs() + remainingMs, invokedFunctionArn: "arn:aws:lambda:unit", traceId: traceId,
        function: FunctionIdentity(name: "unit"), logger: Logger(label: "unit") { _ in SwiftLogNoOpLogHandler() })
}
