import ClerkKit
import LambdaRuntime

/// The one reader of configuration variables: typed and range-checked. A value that is set but cannot be used
/// (a typo in a number or a flag) is an init error naming the variable, never a silent default; an unset or
/// empty variable takes the default. Values are never echoed in errors: any of them may be a secret.
public struct Settings: Sendable {
    /// The variables read.
    public let environment: Environment

    /// Reads `environment`.
    public init(_ environment: Environment) { self.environment = environment }

    /// The text of `name`, or nil when unset or empty.
    public subscript(name: String) -> String? { environment[name] }

    /// The text of `name`; unset is an init error with `hint`.
    public func required(_ name: String, hint: String) throws(ConfigError) -> String {
        guard let value = environment[name] else { throw .missing(name, hint: hint) }
        return value
    }

    /// A whole number in `range`; `defaultValue` when unset.
    public func integer(_ name: String, default defaultValue: Int, in range: ClosedRange<Int>, unit: String = "")
        throws(ConfigError) -> Int
    {
        guard let text = environment[name] else { return defaultValue }
        guard let value = Int(text.trimmingWhitespace()), range.contains(value) else {
            let what = unit.isEmpty ? "a whole number" : unit
            throw .invalid(name, why: "\(what), \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// Milliseconds in `range` (default 100 ms to 60 s).
    public func milliseconds(_ name: String, default defaultValue: Int, in range: ClosedRange<Int> = 100...60_000)
        throws(ConfigError) -> Int
    {
        try integer(name, default: defaultValue, in: range, unit: "milliseconds")
    }

    /// Seconds in `range`.
    public func seconds(_ name: String, default defaultValue: Int, in range: ClosedRange<Int>) throws(ConfigError) -> Int {
        try integer(name, default: defaultValue, in: range, unit: "seconds")
    }

    /// A yes/no variable: `true`/`1`/`yes`/`on` or `false`/`0`/`no`/`off` (any case).
    public func flag(_ name: String, default defaultValue: Bool) throws(ConfigError) -> Bool {
        guard let raw = environment[name]?.lowercased() else { return defaultValue }
        switch raw.trimmingWhitespace() {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw .invalid(name, why: "expected true or false")
        }
    }

    /// A comma-separated list, items trimmed, empty items dropped.
    public func list(_ name: String) -> [String] {
        (environment[name] ?? "").split(separator: ",").map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
    }

    /// A URL that is `https://`, or plain `http://` to a loopback host (stand-ins); `defaultValue` when unset.
    public func url(_ name: String, default defaultValue: String? = nil) throws(ConfigError) -> String? {
        guard let value = environment[name] ?? defaultValue else { return nil }
        guard URLPolicy.isAllowed(value) else {
            throw .invalid(name, why: "an https:// URL is expected (plain http:// only to a loopback host)")
        }
        return value
    }

    /// `CLERK_ENVIRONMENT`: the instance the single-instance settings (`CLERK_SECRET_KEY`,
    /// `CLERK_WEBHOOK_SECRET`, …) stand for; production when unset.
    public func clerkEnvironment() throws(ConfigError) -> ClerkEnvironment {
        guard let text = environment["CLERK_ENVIRONMENT"] else { return .production }
        // Exactly as the instances are named: a row written for `Production` would be another environment.
        guard let value = ClerkEnvironment(rawValue: text.trimmingWhitespace()) else {
            throw .invalid("CLERK_ENVIRONMENT", why: "production or development")
        }
        return value
    }
}
