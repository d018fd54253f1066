/// What the application adds to starting a function, which the runtime cannot know: its metrics options,
/// and how the function's configuration is prepared before init and kept fresh after (e.g. secrets read
/// from a store and read again in a warm container).
public struct LambdaSetup: Sendable {
    /// Builds a function's handler from a configuration (the registered `LambdaFunction.makeHandler`).
    public typealias Build = (Environment) throws -> any Handler

    /// The metrics options for this process; throwing here is an init error (name the variable at fault).
    public var metricsOptions: @Sendable (Environment) throws -> MetricsOptions
    /// The handler the host serves: given the process environment and the function's `Build`, prepares the
    /// configuration and builds with it. The result may be an `UpkeepHandler`, for work between invocations.
    public var makeHandler: @Sendable (Environment, Logger, @escaping Build) throws -> any Handler

    /// Describes a setup.
    public init(
        metricsOptions: @escaping @Sendable (Environment) throws -> MetricsOptions,
        makeHandler: @escaping @Sendable (Environment, Logger, @escaping Build) throws -> any Handler
    ) {
        self.metricsOptions = metricsOptions
        self.makeHandler = makeHandler
    }

    /// No metrics; the function is built from the environment as it is.
    public static let plain = LambdaSetup(metricsOptions: { _ in .off }, makeHandler: { env, _, build in try build(env) })
}

/// A handler with work of its own between invocations (after the response and any `afterResponse` work,
/// before the next event is asked for), so no caller waits for it.
public protocol UpkeepHandler: Handler {
    /// Runs between two invocations, on the invocation loop's thread.
    func betweenInvocations()
}
