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
    private var handlers: [String: any Handler] = [:]

    /// Creates a harness.
    public init(registry: FunctionRegistry, environment: Environment, logger: Logger? = nil) {
        self.registry = registry
        self.environment = environment
        self.logger = logger ?? Logger(environment: environment)
    }

    /// Runs one invocation of `function` with `event`; returns the response bytes.
    public func invoke(_ function: String, event: [UInt8], requestId: String? = nil,
                       timeoutMs: Int64 = 30_000) throws(HarnessError) -> [UInt8] {
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
                handler = try descriptor.makeHandler(InitContext(environment: environment, logger: functionLogger))
            } catch {
                throw .initFailed(LambdaErrorObject(error))
            }
            handlers[function] = handler
        }
        let id = requestId ?? Self.makeRequestId()
        let context = Context(
            requestId: id, deadlineMs: Clock.nowMs() + timeoutMs,
            invokedFunctionArn: "arn:aws:lambda:local:000000000000:function:\(function)",
            traceId: "Root=1-\(String(Clock.nowSeconds(), radix: 16))-\(id.replacingDashes());Sampled=0",
            function: FunctionIdentity(name: function), logger: functionLogger.with("requestId", .string(id)))
        do {
            return try handler.handle(event, context: context)
        } catch {
            throw .functionError(LambdaErrorObject(error))
        }
    }

    /// A random request id in Lambda's UUID form.
    public static func makeRequestId() -> String {
        var rng = SystemRandomNumberGenerator()
        let hex = (0..<4).map { _ in
            let v = String(rng.next() as UInt32, radix: 16)
            return String(repeating: "0", count: 8 - v.count) + v
        }.joined()
        let c = Array(hex)
        return "\(String(c[0..<8]))-\(String(c[8..<12]))-4\(String(c[13..<16]))-a\(String(c[17..<20]))-\(String(c[20..<32]))"
    }
}

extension String {
    fileprivate func replacingDashes() -> String { String(filter { $0 != "-" }.prefix(24)) }
}
