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
