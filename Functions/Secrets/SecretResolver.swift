import JSON
import LambdaRuntime

/// Fills secret variables from a `SecretStore` (AWS Secrets Manager and SSM Parameter Store when deployed):
/// `<NAME>_SECRET_ARN` and `<NAME>_PARAMETER` become `<NAME>`, so every configuration reader keeps reading
/// `<NAME>`.
public final class SecretResolver {
    /// The references found in the environment.
    public let references: [SecretReference]
    /// How long a warm container keeps the values, in seconds; 0 reads them again after every invocation.
    public let ttlSeconds: Int
    private let base: Environment
    private let store: (any SecretStore)?

    /// Reads the references; throws when one cannot be used as written, or (when there is any) when the
    /// store cannot be used. Without `store`, references are read from AWS with the settings in `env`.
    public init(environment env: Environment, ttlSeconds: Int, store: (any SecretStore)? = nil) throws(SecretError) {
        base = env
        references = try SecretReference.all(in: env)
        self.ttlSeconds = ttlSeconds
        if let store {
            self.store = store
        } else if let first = references.first {
            // Checked only when something is to be read: a function without references needs none of this.
            self.store = try AWSSecretStore(environment: env, requester: first.source)
        } else {
            self.store = nil
        }
    }

    /// The TTL `variable` sets, in seconds: 0 to 86400, `defaultSeconds` when unset.
    public static func ttlSeconds(_ env: Environment, variable: String, defaultSeconds: Int = 300) throws(SecretError) -> Int {
        guard let text = env[variable] else { return defaultSeconds }
        guard let ttl = Int(text), (0...86_400).contains(ttl) else {
            throw SecretError(variable: variable, reason: "seconds, 0 to 86400")
        }
        return ttl
    }

    /// Whether there is anything to resolve.
    public var isEmpty: Bool { references.isEmpty }

    /// The environment with every referenced variable filled in. Each secret is read once per call, however
    /// many fields of it are used.
    public func resolve() throws(SecretError) -> Environment {
        var env = base
        guard let store else { return env }
        var fetched: [String: String] = [:]
        for ref in references {
            let key = ref.store.rawValue + "\u{0}" + ref.id
            let text: String
            if let cached = fetched[key] {
                text = cached
            } else {
                text = try store.read(ref)
                fetched[key] = text
            }
            env.values[ref.variable] = try Self.pick(ref, from: text)
        }
        return env
    }

    /// The value of `ref.field` in a JSON secret, or the whole text.
    static func pick(_ ref: SecretReference, from text: String) throws(SecretError) -> String {
        guard let field = ref.field else { return text }
        guard let object = try? JSONValue.parse(Array(text.utf8)), case .object(let members) = object else {
            throw SecretError(variable: ref.source, reason: "#\(field) needs a JSON object secret; this one is not")
        }
        switch members[field] {
        case .string(let s)?: return s
        case .number(let d)?: return d.rounded() == d && abs(d) < 9.0e15 ? String(Int64(d)) : String(d)
        case .bool(let b)?: return b ? "true" : "false"
        case nil, .null?: throw SecretError(variable: ref.source, reason: "the secret has no field \(field)")
        default: throw SecretError(variable: ref.source, reason: "field \(field) is not a string or number")
        }
    }
}
