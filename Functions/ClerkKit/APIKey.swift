/// A freshly minted API key: `mk_` + 64 lower-case hex characters (32 bytes from OpenSSL's CSPRNG).
/// Only `hash` is ever stored or logged; `plaintext` goes to the profile service and nowhere else.
public struct APIKey: Sendable {
    /// The key itself. Never persist or log it.
    public let plaintext: String
    /// SHA-256 of the plaintext, lower-case hex: what the database and the gateway mapping hold.
    public let hash: String

    /// Mints a new key.
    public static func mint() -> APIKey {
        let digits = Array("0123456789abcdef".utf8)
        var text = Array("mk_".utf8)
        for b in Crypto.randomBytes(32) {
            text.append(digits[Int(b >> 4)])
            text.append(digits[Int(b & 0x0F)])
        }
        let plaintext = String(decoding: text, as: UTF8.self)
        return APIKey(plaintext: plaintext, hash: hash(of: plaintext))
    }

    /// The stored form of a key a client presents.
    public static func hash(of plaintext: String) -> String { Crypto.sha256(Array(plaintext.utf8)).hex }
}

extension APIKey: CustomStringConvertible {
    /// Redacted: a key printed by accident never leaks.
    public var description: String { "APIKey(hash: \(hash))" }
}
