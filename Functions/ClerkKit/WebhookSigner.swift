/// Signs webhook bodies the way Svix does: for tests, benchmarks and the `sign-webhook` tool.
public struct WebhookSigner: Sendable {
    private let secret: WebhookSecret

    /// Signs with `secret`.
    public init(secret: WebhookSecret) { self.secret = secret }

    /// The `v1,<base64>` signature of `body` for `id` and `timestamp`.
    public func signature(id: String, timestamp: Int64, body: [UInt8]) -> String {
        let signed = Array("\(id).\(timestamp).".utf8) + body
        return "v1," + Base64.encode(secret.key.mac(signed).array)
    }

    /// The three `svix-*` headers for `body`.
    public func headers(id: String, timestamp: Int64, body: [UInt8]) -> [String: String] {
        ["svix-id": id, "svix-timestamp": String(timestamp), "svix-signature": signature(id: id, timestamp: timestamp, body: body)]
    }

    /// A fresh message id in Svix's form (`msg_` + 27 random base62-ish characters).
    public static func newMessageId() -> String {
        let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
        return "msg_" + String(decoding: Crypto.randomBytes(27).map { alphabet[Int($0) % alphabet.count] }, as: UTF8.self)
    }

    /// A new random secret in Clerk's dashboard form, for local development.
    public static func newSecret() -> String { "whsec_" + Base64.encode(Crypto.randomBytes(24)) }
}
