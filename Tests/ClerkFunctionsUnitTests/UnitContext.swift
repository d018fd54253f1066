import LambdaRuntime
import Logging

/// A context for a handler called directly: thirty seconds left, logs dropped.
func unitContext() -> Context {
    Context(requestId: "unit", deadlineMs: Clock.nowMs() + 30_000, invokedFunctionArn: "arn:aws:lambda:unit", traceId: "",
            function: FunctionIdentity(name: "unit"), logger: Logger(label: "unit") { _ in SwiftLogNoOpLogHandler() })
}
