/// A Svix signing secret (`whsec_` + base64), decoded to its HMAC key.
public struct WebhookSecret: Sendable {
    /// The precomputed HMAC key.
    public let key: HMACSHA256Key

    /// Why a configured secret cannot be used (the value itself is never repeated).
    public enum ParseError: Error, Equatable {
        case empty
        case notBase64
    }

    /// Parses `whsec_<base64>` (the prefix is optional and missing padding is tolerated, as Svix's libraries do).
    public init(_ text: String) throws(ParseError) {
        var body = Substring(text)
        if body.hasPrefix("whsec_") { body = body.dropFirst(6) }
        guard !body.isEmpty else { throw .empty }
        guard let bytes = Base64.decode(Array(body.utf8)) else { throw .notBase64 }
        guard !bytes.isEmpty else { throw .empty }
        key = HMACSHA256Key(bytes)
    }

    /// Splits a variable holding several secrets (rotation) on spaces and commas.
    public static func list(_ text: String) -> [String] {
        text.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\n" || $0 == "\t" }).map(String.init)
    }
}
