import JSON
import LambdaRuntime

#if canImport(Glibc)
    import Glibc
#endif

/// A local Lambda for one function: a Runtime API server that the shipped `bootstrap` runs against, and
/// the invoke endpoint of AWS's runtime interface emulator (`POST /2015-03-31/functions/function/invocations`).
///
/// As Lambda does: one invocation at a time; the process starts on the first invoke (a cold start) and
/// stays warm; a deadline kills it and the next invoke starts a new one; a crash or an init error is
/// reported as Lambda reports it; requests over 6 MB get 413, responses over the limit become
/// `Function.ResponseSizeTooLarge`.
public final class RuntimeEmulator: @unchecked Sendable {
    /// Settings.
    public struct Options: Sendable {
        /// The bootstrap and its arguments.
        public var command: [String]
        /// The function to run (`_HANDLER`).
        public var function: String
        /// Runtime API port (0 picks one).
        public var runtimePort = 9001
        /// Invoke endpoint port (0 picks one).
        public var invokePort = 8080
        /// The function timeout.
        public var timeoutSeconds = 3
        /// Reported as `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`.
        public var memoryMB = 128
        /// The bootstrap's environment (the caller's, usually), before the Lambda variables are added.
        public var environment: [String: String]

        /// Describes an emulated function.
        public init(command: [String], function: String, environment: [String: String]) {
            self.command = command
            self.function = function
            self.environment = environment
        }
    }

    /// Lambda's synchronous request limit.
    public static let maxRequestBytes = 6_291_456

    private let options: Options
    private let lock = ConditionLock()
    private var api: LocalRuntimeAPI
    private var process: Subprocess?
    private var runtimePort: Int
    private var server: LoopbackHTTPServer!
    private let log: Logger
    /// Processes started so far (cold starts).
    public private(set) var starts = 0

    /// Starts both servers; the bootstrap starts on the first invocation.
    public init(options: Options, logger: Logger = Logger(level: .info)) throws {
        self.options = options
        log = logger
        api = try LocalRuntimeAPI(port: options.runtimePort)
        runtimePort = api.port
        server = try LoopbackHTTPServer(port: options.invokePort) { [weak self] request in
            guard let self else { return nil }
            guard request.method == "POST", request.path.hasPrefix("/2015-03-31/functions/"), request.path.hasSuffix("/invocations") else {
                return .json(404, #"{"message":"Not Found"}"#)
            }
            return self.invoke(request.body)
        }
    }

    deinit { stop() }

    /// The Runtime API `host:port`.
    public var runtimeEndpoint: String { "127.0.0.1:\(runtimePort)" }
    /// The invoke URL.
    public var invokeURL: String { server.baseURL + "/2015-03-31/functions/function/invocations" }

    /// Stops the servers and the bootstrap.
    public func stop() {
        lock.withLock {
            if let p = process {
                p.kill(SIGKILL)
                _ = p.wait()
            }
            process = nil
        }
        server?.stop()
        api.stop()
    }

    private static func error(_ type: String, _ message: String) -> LoopbackHTTPServer.Response {
        LoopbackHTTPServer.Response(
            status: 200, headers: [("Content-Type", "application/json"), ("X-Amz-Function-Error", "Unhandled")],
            body: Array(LambdaErrorObject(errorType: type, errorMessage: message).json.utf8))
    }

    /// One invocation, as the invoke endpoint answers it.
    public func invoke(_ event: [UInt8]) -> LoopbackHTTPServer.Response {
        guard event.count <= Self.maxRequestBytes else {
            return .json(
                413,
                LambdaErrorObject(
                    errorType: "RequestEntityTooLarge",
                    errorMessage: "Request must be smaller than \(Self.maxRequestBytes) bytes for the InvokeFunction operation"
                ).json)
        }
        return lock.withLock { () -> LoopbackHTTPServer.Response in
            if process == nil {
                do { try startProcess() } catch { return Self.error("Runtime.InvalidEntrypoint", "\(error)") }
            }
            let deadline = Clock.nowMs() + Int64(options.timeoutSeconds) * 1000
            let id = api.enqueue(event, deadlineMs: deadline)
            while true {
                if let outcome = api.outcome(of: id, timeoutMs: 20) {
                    return outcome.isError
                        ? LoopbackHTTPServer.Response(
                            status: 200,
                            headers: [
                                ("Content-Type", "application/json"),
                                ("X-Amz-Function-Error", "Unhandled")
                            ], body: outcome.body)
                        : LoopbackHTTPServer.Response(status: 200, headers: [("Content-Type", "application/json")], body: outcome.body)
                }
                if let exit = process?.poll() {
                    process = nil
                    let initError = api.initErrors.last
                    log.warn("bootstrap exited", ["code": .int(Int64(exit.code)), "requestId": .string(id)])
                    if let initError {
                        return LoopbackHTTPServer.Response(
                            status: 200,
                            headers: [
                                ("Content-Type", "application/json"),
                                ("X-Amz-Function-Error", "Unhandled")
                            ], body: initError.body)
                    }
                    return Self.error(
                        "Runtime.ExitError",
                        "RequestId: \(id) Error: Runtime exited with error: "
                            + (exit.signaled ? "signal: \(exit.code - 128)" : "exit status \(exit.code)"))
                }
                if Clock.nowMs() >= deadline {
                    log.warn("invocation timed out; restarting the bootstrap", ["requestId": .string(id)])
                    process?.kill(SIGKILL)
                    _ = process?.wait()
                    process = nil
                    return Self.error("Sandbox.Timedout", "RequestId: \(id) Error: Task timed out after \(options.timeoutSeconds).00 seconds")
                }
            }
        }
    }

    private func startProcess() throws {
        // A fresh Runtime API on the same port: nothing of the dead process's state carries over.
        if starts > 0 {
            api.stop()
            api = try LocalRuntimeAPI(port: runtimePort)
        }
        var env = options.environment
        env["AWS_LAMBDA_RUNTIME_API"] = runtimeEndpoint
        env["_HANDLER"] = options.function
        env["AWS_LAMBDA_FUNCTION_NAME"] = options.function
        env["AWS_LAMBDA_FUNCTION_VERSION"] = "$LATEST"
        env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = String(options.memoryMB)
        env["AWS_REGION"] = env["AWS_REGION"] ?? "us-east-1"
        env["TZ"] = ":UTC"
        let path = options.command[0]
        env["LAMBDA_TASK_ROOT"] = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        process = try Subprocess(path: path, arguments: Array(options.command.dropFirst()), environment: env)
        starts += 1
        log.info("bootstrap started", ["pid": .int(Int64(process!.pid)), "coldStart": .int(Int64(starts))])
    }
}
