import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// Who the function is: fixed for the life of the process.
public struct FunctionIdentity: Sendable {
    /// `AWS_LAMBDA_FUNCTION_NAME` (the registered name when run locally).
    public var name: String
    /// `AWS_LAMBDA_FUNCTION_VERSION`.
    public var version: String
    /// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`, in MB.
    public var memoryLimitMB: Int
    /// `AWS_LAMBDA_LOG_GROUP_NAME`.
    public var logGroupName: String?
    /// `AWS_LAMBDA_LOG_STREAM_NAME`.
    public var logStreamName: String?

    /// Creates an identity from its parts.
    public init(
        name: String, version: String = "$LATEST", memoryLimitMB: Int = 128,
        logGroupName: String? = nil, logStreamName: String? = nil
    ) {
        self.name = name
        self.version = version
        self.memoryLimitMB = memoryLimitMB
        self.logGroupName = logGroupName
        self.logStreamName = logStreamName
    }

    /// Reads the identity Lambda gives a custom runtime, falling back to `defaultName`.
    public init(environment env: Environment, defaultName: String) {
        self.init(
            name: env["AWS_LAMBDA_FUNCTION_NAME"] ?? defaultName,
            version: env["AWS_LAMBDA_FUNCTION_VERSION"] ?? "$LATEST",
            memoryLimitMB: Int(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] ?? "") ?? 128,
            logGroupName: env["AWS_LAMBDA_LOG_GROUP_NAME"],
            logStreamName: env["AWS_LAMBDA_LOG_STREAM_NAME"])
    }
}

/// Everything a handler may know about the invocation it serves. Handlers never learn which host runs them.
public struct Context: Sendable {
    /// `Lambda-Runtime-Aws-Request-Id`.
    public let requestId: String
    /// `Lambda-Runtime-Deadline-Ms`: epoch milliseconds when the invocation times out.
    public let deadlineMs: Int64
    /// `Lambda-Runtime-Invoked-Function-Arn`.
    public let invokedFunctionArn: String
    /// `Lambda-Runtime-Trace-Id` (also exported as `_X_AMZN_TRACE_ID`).
    public let traceId: String
    /// `Lambda-Runtime-Client-Context` (JSON, mobile SDK invocations only).
    public let clientContext: String?
    /// `Lambda-Runtime-Cognito-Identity` (JSON, mobile SDK invocations only).
    public let cognitoIdentity: String?
    /// The function's name, version and memory.
    public let function: FunctionIdentity
    /// A swift-log logger whose lines carry this request id and function name, in Lambda's log format.
    public let logger: Logger
    /// Where `afterResponse` work goes; the host drains it once the response is posted.
    private let pendingWork: PendingWork
    /// Where this invocation's metrics go.
    private let metricsSink: Metrics

    /// Creates a context; hosts call this once per invocation.
    public init(
        requestId: String, deadlineMs: Int64, invokedFunctionArn: String, traceId: String,
        clientContext: String? = nil, cognitoIdentity: String? = nil,
        function: FunctionIdentity, logger: Logger, pendingWork: PendingWork = PendingWork(),
        metrics: Metrics = .shared
    ) {
        self.requestId = requestId
        self.deadlineMs = deadlineMs
        self.invokedFunctionArn = invokedFunctionArn
        self.traceId = traceId
        self.clientContext = clientContext
        self.cognitoIdentity = cognitoIdentity
        self.function = function
        self.logger = logger
        self.pendingWork = pendingWork
        self.metricsSink = metrics
    }

    /// CloudWatch metrics (EMF) whose lines carry this invocation's request id.
    public var metrics: InvocationMetrics { InvocationMetrics(sink: metricsSink, requestId: requestId) }

    /// Schedules `work` to run after this invocation's response is posted and before the host asks for the
    /// next event (the invocation ends then). It shares the invocation's deadline: check `remainingTimeMs`.
    public func afterResponse(_ work: @escaping @Sendable () -> Void) {
        pendingWork.add(work)
    }

    /// A random request id in Lambda's UUID form.
    public static func makeRequestId() -> String {
        var rng = SystemRandomNumberGenerator()
        let hex = (0..<4).map { _ in
            let v = String(rng.next() as UInt32, radix: 16)
            return String(repeating: "0", count: 8 - v.count) + v
        }.joined()
        let c = Array(hex)
        guard c.count == 32 else { return hex }
        return "\(String(c[0..<8]))-\(String(c[8..<12]))-4\(String(c[13..<16]))-a\(String(c[17..<20]))-\(String(c[20..<32]))"
    }

    /// Milliseconds left before the deadline (negative once it has passed).
    public var remainingTimeMs: Int64 {
        let (left, overflow) = deadlineMs.subtractingReportingOverflow(Clock.nowMs())
        return overflow ? (deadlineMs < 0 ? Int64.min / 2 : Int64.max / 2) : left
    }
}

/// Wall-clock helpers in the units Lambda uses.
public enum Clock {
    /// Epoch milliseconds now.
    public static func nowMs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    /// Epoch seconds now.
    public static func nowSeconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec)
    }

    /// A monotonic reading in nanoseconds, for measuring durations.
    public static func monotonicNs() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}
