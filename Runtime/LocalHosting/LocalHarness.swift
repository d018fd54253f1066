import JSON
import LambdaRuntime

/// Why the harness could not produce a response.
public enum HarnessError: Error, CustomStringConvertible {
    /// No function by that name is registered.
    case unknownFunction(String, known: [String])
    /// The event is not JSON (Lambda refuses such payloads before any function runs).
    case invalidEventJSON(String)
    /// The function's setup failed.
    case initFailed(LambdaErrorObject)
    /// The function threw.
    case functionError(LambdaErrorObject)

    public var description: String {
        switch self {
        case .unknownFunction(let n, let known): "no function named '\(n)'; known: \(known.joined(separator: ", "))"
        case .invalidEventJSON(let why): "the event is not valid JSON: \(why)"
        case .initFailed(let e): "init failed: \(e.errorType): \(e.errorMessage)"
        case .functionError(let e): "\(e.errorType): \(e.errorMessage)"
        }
    }

    /// The Lambda error object the CLI prints for this failure.
    public var errorObject: LambdaErrorObject {
        switch self {
        case .unknownFunction: LambdaErrorObject(errorType: "Runtime.UnknownHandler", errorMessage: description)
        case .invalidEventJSON(let why):
            LambdaErrorObject(errorType: "InvalidRequestContent", errorMessage: "Could not parse request body into json: \(why)")
        case .initFailed(let e), .functionError(let e): e
        }
    }
}

/// Runs registered functions in this process with a local `Context`, as a warm Lambda container would:
/// each function is set up on first use and kept.
public final class LocalHarness {
    /// The functions it can run.
    public let registry: FunctionRegistry
    /// The configuration handed to each function's setup.
    public let environment: Environment
    /// The base logger (standard error).
    public let logger: Logger
    /// How each function is set up, as `bootstrap` does at init (e.g. so that a developer can point `invoke`
    /// at the deployed secrets); metrics stay off in process.
    public let setup: LambdaSetup
    private var handlers: [String: any Handler] = [:]

    /// Creates a harness.
    public init(registry: FunctionRegistry, environment: Environment, logger: Logger? = nil, setup: LambdaSetup = .plain) {
        self.registry = registry
        self.setup = setup
        self.environment = environment
        self.logger = logger ?? Logger(environment: environment)
    }

    /// Runs one invocation of `function` with `event`; returns the response bytes.
    ///
    /// As on Lambda, work the function scheduled with `Context.afterResponse` runs after the response is
    /// delivered: `respond` (when given) receives it first, then that work runs, then this returns.
    public func invoke(
        _ function: String, event: [UInt8], requestId: String? = nil, timeoutMs: Int64 = 30_000,
        respond: (([UInt8]) -> Void)? = nil
    ) throws(HarnessError) -> [UInt8] {
        guard let descriptor = registry[function] else {
            throw .unknownFunction(function, known: registry.functions.map(\.name))
        }
        do {
            try JSONScanner.validate(event)
        } catch {
            throw .invalidEventJSON("malformed JSON")
        }
        let functionLogger = logger.with("function", .string(function))
        let handler: any Handler
        if let cached = handlers[function] {
            handler = cached
        } else {
            do {
                handler = try setup.makeHandler(environment, functionLogger) {
                    try descriptor.makeHandler(InitContext(environment: $0, logger: functionLogger))
                }
            } catch {
                throw .initFailed(LambdaErrorObject(error))
            }
            handlers[function] = handler
        }
        let id = requestId ?? Context.makeRequestId()
        let pending = PendingWork()
        let context = Context(
            requestId: id, deadlineMs: Clock.nowMs() + timeoutMs,
            invokedFunctionArn: "arn:aws:lambda:local:000000000000:function:\(function)",
            traceId: "Root=1-\(String(Clock.nowSeconds(), radix: 16))-\(id.replacingDashes());Sampled=0",
            function: FunctionIdentity(name: function), logger: functionLogger.with("requestId", .string(id)),
            pendingWork: pending)
        let outcome: Result<[UInt8], HarnessError>
        do {
            let response = try handler.handle(event, context: context)
            respond?(response)
            outcome = .success(response)
        } catch {
            outcome = .failure(.functionError(LambdaErrorObject(error)))
        }
        pending.runAll()
        (handler as? any UpkeepHandler)?.betweenInvocations()
        return try outcome.get()
    }
}

extension String {
    fileprivate func replacingDashes() -> String { String(filter { $0 != "-" }.prefix(24)) }
}
