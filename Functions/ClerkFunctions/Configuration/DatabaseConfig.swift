import LambdaRuntime

/// Database settings shared by every function that stores data.
public struct DatabaseConfig: Sendable {
    /// `DATABASE_URL`: a `postgresql://` URI or a libpq `key=value` string.
    public var url: String
    /// `DATABASE_CONNECT_TIMEOUT` in seconds (default 5).
    public var connectTimeoutSeconds: Int
    /// `DATABASE_PASSWORD`: the password, kept out of the URL (typically `DATABASE_PASSWORD_SECRET_ARN` naming
    /// the RDS-managed secret with `#password`); it overrides one in the URL.
    public var password: String?

    /// Reads `DATABASE_URL`, `DATABASE_PASSWORD` and `DATABASE_CONNECT_TIMEOUT`.
    public init(environment env: Environment) throws {
        guard let url = env["DATABASE_URL"] else {
            throw ConfigError.missing("DATABASE_URL", hint: "point it at the application's PostgreSQL database")
        }
        self.url = url
        password = env["DATABASE_PASSWORD"]
        connectTimeoutSeconds = try Settings(env).seconds("DATABASE_CONNECT_TIMEOUT", default: 5, in: 1...60)
    }
}
