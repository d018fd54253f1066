import ClerkKit
import JSON
import LambdaRuntime

/// Webhook settings from the environment.
///
/// `DEV_CLERK_WEBHOOK_SECRET` verifies as `development`, `PROD_CLERK_WEBHOOK_SECRET` as `production`,
/// `CLERK_WEBHOOK_SECRET` (or Clerk's own name, `CLERK_WEBHOOK_SIGNING_SECRET`) as `CLERK_ENVIRONMENT`
/// (default `production`). Each may hold several secrets separated by spaces or commas (rotation).
public struct WebhookConfig: Sendable {
    /// The verifier over every configured secret.
    public let verifier: WebhookVerifier
    /// `CLERK_WEBHOOK_MAX_BYTES`: larger bodies get 413 (default 1 MiB).
    public let maxBodyBytes: Int

    /// The variables read, in the order their secrets are tried, with the environment each stands for.
    public static func secretVariables(_ env: Environment) throws(ConfigError) -> [(variable: String, environment: ClerkEnvironment)] {
        let generic = try Settings(env).clerkEnvironment()
        return [
            ("DEV_CLERK_WEBHOOK_SECRET", .development), ("PROD_CLERK_WEBHOOK_SECRET", .production),
            ("CLERK_WEBHOOK_SECRET", generic), ("CLERK_WEBHOOK_SIGNING_SECRET", generic)
        ]
    }

    /// Reads the configuration; no secret at all is an init error, never "accept everything".
    public init(environment env: Environment) throws {
        var entries: [WebhookVerifier.Entry] = []
        for (variable, environment) in try Self.secretVariables(env) {
            guard let value = env[variable] else { continue }
            for text in WebhookSecret.list(value) {
                do {
                    entries.append(.init(environment: environment.rawValue, secret: try WebhookSecret(text)))
                } catch {
                    throw ConfigError.invalid(variable, why: "each secret must be whsec_ followed by base64")
                }
            }
        }
        guard !entries.isEmpty else {
            throw ConfigError.missing(
                "CLERK_WEBHOOK_SECRET",
                hint: "set it (or DEV_/PROD_CLERK_WEBHOOK_SECRET) to the endpoint's signing secret")
        }
        let settings = Settings(env)
        let tolerance = try settings.seconds("CLERK_WEBHOOK_TOLERANCE", default: 300, in: 1...Int(Int32.max))
        verifier = WebhookVerifier(entries: entries, toleranceSeconds: Int64(tolerance))
        // Lambda takes at most 6 MB per synchronous event; a limit above it would never be reached.
        maxBodyBytes = try settings.integer("CLERK_WEBHOOK_MAX_BYTES", default: 1 << 20, in: 1...(6 << 20), unit: "bytes")
    }
}
