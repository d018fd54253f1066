import LambdaRuntime
import Secrets

extension Functions {
    /// How `bootstrap` (and the local harness) starts a function: metrics as `CLERK_METRICS` and
    /// `CLERK_METRICS_NAMESPACE` say, and `<NAME>_SECRET_ARN` / `<NAME>_PARAMETER` read from AWS before init
    /// and again once `CLERK_SECRETS_TTL` has passed.
    public static let setup = LambdaSetup(
        metricsOptions: metricsOptions,
        makeHandler: { env, logger, build in
            let resolver = try SecretResolver(environment: env, ttlSeconds: SecretResolver.ttlSeconds(env, variable: "CLERK_SECRETS_TTL"))
            return try RefreshingHandler.make(environment: env, resolver: resolver, logger: logger, build: build)
        })

    /// `CLERK_METRICS` (default true) and `CLERK_METRICS_NAMESPACE` (default `ClerkFunctions`); a bad value
    /// is an init error naming the variable.
    static func metricsOptions(_ env: Environment) throws(InitError) -> MetricsOptions {
        let enabled: Bool
        switch env["CLERK_METRICS"]?.lowercased() ?? "true" {
        case "true", "1", "yes", "on": enabled = true
        case "false", "0", "no", "off": enabled = false
        default: throw InitError(errorType: "Runtime.ConfigError", errorMessage: "CLERK_METRICS is invalid: expected true or false")
        }
        do {
            return try MetricsOptions(enabled: enabled, namespace: env["CLERK_METRICS_NAMESPACE"] ?? "ClerkFunctions")
        } catch {
            throw InitError(errorType: "Runtime.ConfigError", errorMessage: "CLERK_METRICS_NAMESPACE is invalid: \(error.reason)")
        }
    }
}
