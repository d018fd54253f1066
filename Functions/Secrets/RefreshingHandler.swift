import LambdaRuntime

/// The handler of a function whose secrets come from a store: serves with the values read at init, and once
/// the resolver's TTL has passed reads them again after an invocation's response (outside any caller's
/// wait) and, when one changed, builds the function afresh with the new values. A rotated webhook secret
/// is so picked up by warm containers without a deploy.
///
/// A failed refresh keeps the values and the handler that work, logs the variable and why, and tries again
/// a minute later (or after the TTL, when shorter); a rebuild that fails (a malformed new value) likewise.
public final class RefreshingHandler: UpkeepHandler, @unchecked Sendable {
    // One invocation at a time per process: `current` is only swapped between invocations, on the loop's thread.
    private var current: any Handler
    private var values: Environment
    private var dueAtMs: Int64
    private let resolver: SecretResolver
    private let rebuild: (Environment) throws -> any Handler
    private let logger: Logger

    /// Wraps `handler`, built from `values` (what `resolver` read); `rebuild` builds it afresh.
    public init(
        handler: any Handler, values: Environment, resolver: SecretResolver, logger: Logger,
        rebuild: @escaping (Environment) throws -> any Handler
    ) {
        current = handler
        self.values = values
        self.resolver = resolver
        self.logger = logger
        self.rebuild = rebuild
        dueAtMs = Clock.nowMs() + Int64(resolver.ttlSeconds) * 1000
    }

    /// Builds the function from `env` with its references read (a failure is an init error naming the
    /// variable), wrapped to refresh them when there are any.
    public static func make(
        environment env: Environment, resolver: SecretResolver, logger: Logger,
        build: @escaping (Environment) throws -> any Handler
    ) throws -> any Handler {
        guard !resolver.isEmpty else { return try build(env) }
        let resolved = try resolver.resolve()
        logger.info("secrets read", ["variables": .string(resolver.references.map(\.variable).joined(separator: ","))])
        let handler = try build(resolved)
        return RefreshingHandler(handler: handler, values: resolved, resolver: resolver, logger: logger, rebuild: build)
    }

    public func handle(_ event: [UInt8], context: Context) throws -> [UInt8] {
        try current.handle(event, context: context)
    }

    /// Between invocations: refreshes the secrets when they are due.
    public func betweenInvocations() { refreshIfDue() }

    /// Reads the secrets again when they are due; rebuilds the handler when a value changed.
    func refreshIfDue() {
        let now = Clock.nowMs()
        guard now >= dueAtMs else { return }
        let retryMs = Int64(min(resolver.ttlSeconds, 60)) * 1000
        let fresh: Environment
        do {
            fresh = try resolver.resolve()
        } catch {
            logger.warning(
                "could not refresh secrets; keeping the current values",
                metadata: ["variable": .string(error.variable), "reason": .string(error.reason)])
            dueAtMs = now + retryMs
            return
        }
        let changed = resolver.references.filter { fresh.values[$0.variable] != values.values[$0.variable] }.map(\.variable)
        dueAtMs = now + Int64(resolver.ttlSeconds) * 1000
        guard !changed.isEmpty else { return }
        do {
            current = try rebuild(fresh)
            values = fresh
            logger.info(
                "secrets changed; function rebuilt with the new values",
                metadata: ["variables": .string(changed.joined(separator: ","))])
        } catch {
            logger.error(
                "secrets changed but the function cannot use them; keeping the current values",
                metadata: [
                    "variables": .string(changed.joined(separator: ",")),
                    "reason": .string((error as? LambdaReportableError)?.errorMessage ?? "\(type(of: error))")
                ])
            dueAtMs = now + retryMs
        }
    }
}
