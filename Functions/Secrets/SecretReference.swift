import LambdaRuntime

/// Where one secret variable's value lives in AWS: `<NAME>_SECRET_ARN` (Secrets Manager, `#field` picks a
/// member of a JSON secret) or `<NAME>_PARAMETER` (SSM Parameter Store, decrypted).
public struct SecretReference: Sendable, Equatable {
    /// The two stores a value can come from.
    public enum Store: String, Sendable {
        case secretsManager = "Secrets Manager"
        case parameterStore = "Parameter Store"
    }

    /// The variable the value fills, e.g. `PROD_CLERK_WEBHOOK_SECRET`.
    public var variable: String
    /// The variable that names the place, e.g. `PROD_CLERK_WEBHOOK_SECRET_SECRET_ARN` (error messages say it).
    public var source: String
    /// Which service holds it.
    public var store: Store
    /// The secret's ARN or name, or the parameter's name or ARN.
    public var id: String
    /// For a JSON secret, the member to use.
    public var field: String?

    /// The suffixes that mark a reference, with the store each names.
    static let suffixes: [(suffix: String, store: Store)] = [("_SECRET_ARN", .secretsManager), ("_PARAMETER", .parameterStore)]

    /// Every reference `env` holds; a variable that is both set and referenced, or referenced twice, is an
    /// error (which of two values wins would otherwise be a guess).
    public static func all(in env: Environment) throws(SecretError) -> [SecretReference] {
        var found: [String: SecretReference] = [:]
        for name in env.values.keys.sorted() {
            guard let value = env[name] else { continue }
            for (suffix, store) in suffixes where name.hasSuffix(suffix) && name.count > suffix.count {
                let variable = String(name.dropLast(suffix.count))
                if env[variable] != nil {
                    throw SecretError(variable: name, reason: "\(variable) is set too; set one of the two")
                }
                if let other = found[variable] {
                    throw SecretError(variable: name, reason: "\(other.source) names \(variable) too; set one of the two")
                }
                var id = value
                var field: String?
                if store == .secretsManager, let hash = value.lastIndex(of: "#") {
                    id = String(value[..<hash])
                    field = String(value[value.index(after: hash)...])
                    guard field?.isEmpty == false else { throw SecretError(variable: name, reason: "nothing follows #") }
                }
                // ARNs and names are far shorter; the bound keeps the signed request small (see HTTPClient.sendSigned).
                guard !id.isEmpty, id.utf8.count <= 512, !id.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) else {
                    throw SecretError(variable: name, reason: "not a secret ARN or parameter name")
                }
                found[variable] = SecretReference(variable: variable, source: name, store: store, id: id, field: field)
            }
        }
        return found.values.sorted { $0.variable < $1.variable }
    }
}

/// A secret that cannot be resolved. The message names the variable and why, never a value.
public struct SecretError: LambdaReportableError, CustomStringConvertible, Equatable {
    /// The variable that named the secret (or the AWS setting that is missing).
    public var variable: String
    /// Why (an AWS error type, an HTTP status, a missing field; never the secret).
    public var reason: String

    /// Creates the error.
    public init(variable: String, reason: String) {
        self.variable = variable
        self.reason = reason
    }

    public var errorType: String { "Runtime.SecretError" }
    public var errorMessage: String { description }
    public var description: String { "\(variable): \(reason)" }
}
