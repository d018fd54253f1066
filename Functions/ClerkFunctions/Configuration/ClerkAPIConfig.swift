import ClerkKit
import LambdaRuntime

/// Where the Backend API is and which secret key speaks for which environment.
///
/// `PROD_CLERK_SECRET_KEY` and `DEV_CLERK_SECRET_KEY` name the two instances; `CLERK_SECRET_KEY` is the
/// single instance named by `CLERK_ENVIRONMENT` (default `production`), as the webhook secrets work.
public struct ClerkAPIConfig: Sendable {
    /// `CLERK_API_URL` (default `https://api.clerk.com`).
    public var baseURL: String
    /// Secret keys by environment (`production`, `development`).
    public var secretKeys: [String: String]

    /// Reads the variables; a base URL that is not https (or loopback http) is an init error.
    public init(environment env: Environment) throws {
        baseURL = env["CLERK_API_URL"] ?? "https://api.clerk.com"
        guard URLPolicy.isAllowed(baseURL) else {
            throw ConfigError.invalid("CLERK_API_URL", why: "an https:// URL is expected (http:// only for 127.0.0.0/8, [::1] or localhost)")
        }
        var keys: [String: String] = [:]
        if let single = env["CLERK_SECRET_KEY"] { keys[try Settings(env).clerkEnvironment().rawValue] = single }
        for instance in ClerkEnvironment.allCases {
            if let key = env[instance.variablePrefix + "CLERK_SECRET_KEY"] { keys[instance.rawValue] = key }
        }
        secretKeys = keys
    }

    /// A client for `environment`'s instance, or nil when no key is configured for it.
    public func client(for environment: String) throws -> ClerkBackendAPI? {
        guard let key = secretKeys[environment] else { return nil }
        return try ClerkBackendAPI(baseURL: baseURL, secretKey: key)
    }
}
