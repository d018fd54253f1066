/// What a function gets when it is set up, once per process (a Lambda init or the harness's first call).
public struct InitContext: Sendable {
    /// The configuration.
    public var environment: Environment
    /// A logger bound to the function's name.
    public var logger: Logger

    /// Creates an init context.
    public init(environment: Environment, logger: Logger) {
        self.environment = environment
        self.logger = logger
    }
}

/// A function the executable can run: by `_HANDLER` on Lambda, by name in the harness.
public struct LambdaFunction: Sendable {
    /// The name used as the SAM `Handler` and on the command line.
    public let name: String
    /// One line for `list`.
    public let summary: String
    /// The event shapes it accepts, for `list`.
    public let accepts: [String]
    /// Builds the handler once per process; throwing here is an init error.
    public let makeHandler: @Sendable (InitContext) throws -> any Handler

    /// Describes a function.
    public init(
        name: String, summary: String, accepts: [String],
        makeHandler: @escaping @Sendable (InitContext) throws -> any Handler
    ) {
        self.name = name
        self.summary = summary
        self.accepts = accepts
        self.makeHandler = makeHandler
    }
}

/// The functions one executable carries, by name.
public struct FunctionRegistry: Sendable {
    /// All functions, in the order `list` shows them.
    public let functions: [LambdaFunction]

    /// Creates a registry; names must be unique.
    public init(_ functions: [LambdaFunction]) {
        precondition(Set(functions.map(\.name)).count == functions.count, "duplicate function name")
        self.functions = functions
    }

    /// The function named `name`.
    public subscript(name: String) -> LambdaFunction? { functions.first { $0.name == name } }

    /// `echo`: returns its event unchanged. The runtime's tests and benchmarks use it.
    public static let echo = LambdaFunction(
        name: "echo", summary: "Returns its event bytes unchanged (runtime tests and benchmarks).",
        accepts: ["any JSON"]
    ) { _ in ClosureHandler { event, _ in event } }
}

/// A failed function setup, reported to `/init/error` with this type.
public struct InitError: LambdaReportableError, CustomStringConvertible {
    /// `Runtime.UnknownHandler`, `Runtime.InitError`, ...
    public let errorType: String
    /// What went wrong (never a secret).
    public let errorMessage: String
    public var description: String { "\(errorType): \(errorMessage)" }

    /// Creates an init error.
    public init(errorType: String, errorMessage: String) {
        self.errorType = errorType
        self.errorMessage = errorMessage
    }
}
