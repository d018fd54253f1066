import HTTPClient
import JSON

/// Fills secret variables from AWS Secrets Manager and SSM Parameter Store: `<NAME>_SECRET_ARN` and
/// `<NAME>_PARAMETER` become `<NAME>`, so every configuration reader keeps reading `<NAME>`.
///
/// Requests go over HTTPS, signed with AWS Signature V4 by libcurl, with the role credentials Lambda puts in
/// the environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`).
/// Endpoints follow the SDKs' variables (`AWS_ENDPOINT_URL_SECRETS_MANAGER`, `AWS_ENDPOINT_URL_SSM`,
/// `AWS_ENDPOINT_URL`), for VPC endpoints and tests.
public final class SecretResolver {
    /// The references found in the environment.
    public let references: [SecretReference]
    /// `CLERK_SECRETS_TTL` in seconds (default 300): how long a warm container keeps the values; 0 reads
    /// them again after every invocation.
    public let ttlSeconds: Int
    private let base: Environment
    private let region: String
    private let credentials: String
    private let sessionToken: String?
    private let secretsManagerURL: String
    private let ssmURL: String
    private var client: HTTPClient?

    /// Reads the references and the AWS settings; throws when a reference cannot be used as written.
    public init(environment env: Environment) throws(SecretError) {
        base = env
        references = try SecretReference.all(in: env)
        let ttlText = env["CLERK_SECRETS_TTL"] ?? "300"
        guard let ttl = Int(ttlText), (0...86_400).contains(ttl) else {
            throw SecretError(variable: "CLERK_SECRETS_TTL", reason: "seconds, 0 to 86400")
        }
        ttlSeconds = ttl
        region = env["AWS_REGION"] ?? env["AWS_DEFAULT_REGION"] ?? ""
        sessionToken = env["AWS_SESSION_TOKEN"]
        let key = env["AWS_ACCESS_KEY_ID"] ?? ""
        let secret = env["AWS_SECRET_ACCESS_KEY"] ?? ""
        credentials = key + ":" + secret
        secretsManagerURL = env["AWS_ENDPOINT_URL_SECRETS_MANAGER"] ?? env["AWS_ENDPOINT_URL"]
            ?? "https://secretsmanager.\(region).amazonaws.com"
        ssmURL = env["AWS_ENDPOINT_URL_SSM"] ?? env["AWS_ENDPOINT_URL"] ?? "https://ssm.\(region).amazonaws.com"
        guard let first = references.first else { return }
        // Checked only when something is to be read: a function without references needs none of this.
        for (name, value) in [("AWS_REGION", region), ("AWS_ACCESS_KEY_ID", key), ("AWS_SECRET_ACCESS_KEY", secret)] where value.isEmpty {
            throw SecretError(variable: first.source, reason: "\(name) is not set (the function's role credentials)")
        }
        guard !key.contains(":"), !region.contains(":") else {
            throw SecretError(variable: "AWS_ACCESS_KEY_ID", reason: "not an access key id")
        }
        for (name, url) in [("AWS_ENDPOINT_URL_SECRETS_MANAGER", secretsManagerURL), ("AWS_ENDPOINT_URL_SSM", ssmURL)] {
            if let why = Self.refusal(url) { throw SecretError(variable: name, reason: why) }
        }
    }

    /// Whether there is anything to resolve.
    public var isEmpty: Bool { references.isEmpty }

    /// The environment with every referenced variable filled in. Each secret is read once per call, however
    /// many fields of it are used.
    public func resolve() throws(SecretError) -> Environment {
        var env = base
        var fetched: [String: String] = [:]
        for ref in references {
            let key = ref.store.rawValue + "\u{0}" + ref.id
            let text: String
            if let cached = fetched[key] {
                text = cached
            } else {
                text = try fetch(ref)
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

    private func fetch(_ ref: SecretReference) throws(SecretError) -> String {
        let (url, service, target, body): (String, String, String, String)
        switch ref.store {
        case .secretsManager:
            (url, service, target) = (secretsManagerURL, "secretsmanager", "secretsmanager.GetSecretValue")
            body = "{\"SecretId\":\(JSONText.quoted(ref.id))}"
        case .parameterStore:
            (url, service, target) = (ssmURL, "ssm", "AmazonSSM.GetParameter")
            body = "{\"Name\":\(JSONText.quoted(ref.id)),\"WithDecryption\":true}"
        }
        var headers = ["Content-Type: application/x-amz-json-1.1", "X-Amz-Target: " + target]
        if let sessionToken { headers.append("X-Amz-Security-Token: " + sessionToken) }
        var response: HTTPResponse?
        var lastFailure = ""
        // One retry for what is worth one: a dropped connection, a 5xx, throttling. Init has 10 s in all.
        for attempt in 0..<2 {
            do {
                if client == nil { client = try HTTPClient() }
                guard let client else { break }
                let r = try client.sendSigned(method: "POST", url: url, headers: headers, body: Array(body.utf8),
                                              provider: "aws:amz:\(region):\(service)", credentials: credentials,
                                              timeoutMs: 3000, connectTimeoutMs: 2000, maxResponseBytes: 256 << 10)
                let type = Self.errorType(r)
                if (r.status >= 500 || type == "ThrottlingException") && attempt == 0 {
                    lastFailure = "\(ref.store.rawValue) answered \(r.status) \(type)"
                    continue
                }
                response = r
                break
            } catch {
                lastFailure = "cannot reach \(ref.store.rawValue): \(error.message)"
                client = nil
            }
        }
        guard let response else { throw SecretError(variable: ref.source, reason: lastFailure) }
        guard response.status == 200 else {
            throw SecretError(variable: ref.source, reason: "\(ref.store.rawValue) answered \(response.status) \(Self.errorType(response))")
        }
        guard let answer = try? JSONValue.parse(response.body) else {
            throw SecretError(variable: ref.source, reason: "\(ref.store.rawValue) answered with something other than JSON")
        }
        switch ref.store {
        case .secretsManager:
            if let text = answer["SecretString"]?.stringValue { return text }
            throw SecretError(variable: ref.source, reason: "the secret has no SecretString (binary secrets are not supported)")
        case .parameterStore:
            if let text = answer["Parameter"]?["Value"]?.stringValue { return text }
            throw SecretError(variable: ref.source, reason: "the answer has no Parameter.Value")
        }
    }

    /// The AWS error type of an answer (`ResourceNotFoundException`, `ParameterNotFound`, ...): the part after
    /// `#` of `__type`, or the `x-amzn-errortype` header. Only names from a fixed alphabet are kept.
    static func errorType(_ r: HTTPResponse) -> String {
        var type = (try? JSONValue.parse(r.body))?["__type"]?.stringValue ?? r.header("x-amzn-errortype") ?? ""
        if let hash = type.lastIndex(of: "#") { type = String(type[type.index(after: hash)...]) }
        if let colon = type.firstIndex(of: ":") { type = String(type[..<colon]) }
        let clean = type.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "." }
        return clean && type.count <= 80 ? type : "(unrecognised error)"
    }

    /// Why an endpoint is not used: not http(s), or plain http to anything but loopback (the answer is a secret).
    static func refusal(_ url: String) -> String? {
        let lower = url.lowercased()
        if lower.hasPrefix("https://") { return nil }
        guard lower.hasPrefix("http://") else { return "not an https:// URL" }
        let rest = lower.dropFirst("http://".count)
        for host in ["127.0.0.1", "localhost", "[::1]"] where rest.hasPrefix(host) {
            let after = rest.dropFirst(host.count)
            if after.isEmpty || after.first == ":" || after.first == "/" { return nil }
        }
        return "plain http is for loopback only; use https://"
    }
}
