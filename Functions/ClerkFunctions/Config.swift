import JSON
import LambdaRuntime

/// A configuration problem found at init; reported to Lambda's `/init/error`.
public enum ConfigError: LambdaReportableError, CustomStringConvertible {
    /// A required variable is not set.
    case missing(String, hint: String)
    /// A variable's value cannot be used (the value itself is never echoed: it may be a secret).
    case invalid(String, why: String)

    public var errorType: String { "Runtime.ConfigError" }
    public var errorMessage: String { description }
    public var description: String {
        switch self {
        case .missing(let name, let hint): "\(name) is not set: \(hint)"
        case .invalid(let name, let why): "\(name) is invalid: \(why)"
        }
    }
}

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
        connectTimeoutSeconds = Int(env["DATABASE_CONNECT_TIMEOUT"] ?? "") ?? 5
    }
}

extension Environment {
    /// A yes/no variable: `true`/`1`/`yes`/`on` or `false`/`0`/`no`/`off` (any case); `defaultValue` when
    /// unset or empty; anything else is a configuration error, so that a typo never turns a check off.
    func flag(_ name: String, default defaultValue: Bool) throws -> Bool {
        guard let raw = self[name]?.lowercased(), !raw.isEmpty else { return defaultValue }
        switch raw {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw ConfigError.invalid(name, why: "expected true or false")
        }
    }
}
