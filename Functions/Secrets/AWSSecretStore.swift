import HTTPClient
import JSON
import LambdaRuntime

/// AWS Secrets Manager and SSM Parameter Store as a `SecretStore`.
///
/// Requests go over HTTPS, signed with AWS Signature V4 by libcurl, with the role credentials Lambda puts in
/// the environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`).
/// Endpoints follow the SDKs' variables (`AWS_ENDPOINT_URL_SECRETS_MANAGER`, `AWS_ENDPOINT_URL_SSM`,
/// `AWS_ENDPOINT_URL`), for VPC endpoints and tests.
public final class AWSSecretStore: SecretStore {
    private let region: String
    private let credentials: String
    private let sessionToken: String?
    private let secretsManagerURL: String
    private let ssmURL: String
    private var client: HTTPClient?

    /// Reads the AWS settings from `env`; throws when one is missing or unusable, naming `requester` (the
    /// first reference, which is why the settings are needed) or the setting at fault.
    public init(environment env: Environment, requester: String) throws(SecretError) {
        region = env["AWS_REGION"] ?? env["AWS_DEFAULT_REGION"] ?? ""
        sessionToken = env["AWS_SESSION_TOKEN"]
        let key = env["AWS_ACCESS_KEY_ID"] ?? ""
        let secret = env["AWS_SECRET_ACCESS_KEY"] ?? ""
        credentials = key + ":" + secret
        secretsManagerURL =
            env["AWS_ENDPOINT_URL_SECRETS_MANAGER"] ?? env["AWS_ENDPOINT_URL"]
            ?? "https://secretsmanager.\(region).amazonaws.com"
        ssmURL = env["AWS_ENDPOINT_URL_SSM"] ?? env["AWS_ENDPOINT_URL"] ?? "https://ssm.\(region).amazonaws.com"
        for (name, value) in [("AWS_REGION", region), ("AWS_ACCESS_KEY_ID", key), ("AWS_SECRET_ACCESS_KEY", secret)] where value.isEmpty {
            throw SecretError(variable: requester, reason: "\(name) is not set (the function's role credentials)")
        }
        guard !key.contains(":"), !region.contains(":") else {
            throw SecretError(variable: "AWS_ACCESS_KEY_ID", reason: "not an access key id")
        }
        for (name, url) in [("AWS_ENDPOINT_URL_SECRETS_MANAGER", secretsManagerURL), ("AWS_ENDPOINT_URL_SSM", ssmURL)] {
            if let why = Self.refusal(url) { throw SecretError(variable: name, reason: why) }
        }
    }

    public func read(_ ref: SecretReference) throws(SecretError) -> String {
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
                let r = try client.sendSigned(
                    method: "POST", url: url, headers: headers, body: Array(body.utf8),
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
