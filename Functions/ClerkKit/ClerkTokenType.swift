import JSON

/// The kinds of token Clerk issues, told apart as Clerk's backend SDK does (`acceptsToken`).
public enum ClerkTokenType: String, Sendable, CaseIterable, Hashable {
    case sessionToken = "session_token"
    case apiKey = "api_key"
    case m2mToken = "m2m_token"
    case oauthToken = "oauth_token"

    /// Whether the token is opaque (verified by Clerk's Backend API) rather than a JWT checked locally.
    public static func isOpaque(_ token: String) -> Bool {
        token.hasPrefix("ak_") || token.hasPrefix("mt_") || token.hasPrefix("oat_")
    }

    /// The type of `token`: `ak_…` an API key, `mt_…` an M2M token, `oat_…` an OAuth access token; a JWT
    /// whose header `typ` is `at+jwt` or `application/at+jwt` an OAuth access token, one whose `sub` starts
    /// with `mch_` an M2M token; anything else a session token. Nothing is verified here: a JWT that does
    /// not even decode is called a session token, and the session verifier then refuses it as malformed.
    public static func detect(_ token: String) -> ClerkTokenType {
        if token.hasPrefix("ak_") { return .apiKey }
        if token.hasPrefix("mt_") { return .m2mToken }
        if token.hasPrefix("oat_") { return .oauthToken }
        let bytes = Array(token.utf8)
        guard bytes.count < 16_384, let d1 = bytes.firstIndex(of: 0x2E), let d2 = bytes[(d1 + 1)...].firstIndex(of: 0x2E),
            let header = Base64.decodeURLCanonical(bytes[..<d1])
        else { return .sessionToken }
        var typ: String?
        do {
            try JSONScanner.scan(header) { key, value in
                if key == "typ", case .string(let s) = value { typ = s }
            }
        } catch {
            return .sessionToken
        }
        if let typ, Self.isAccessTokenType(typ) { return .oauthToken }
        guard let payload = Base64.decodeURLCanonical(bytes[(d1 + 1)..<d2]) else { return .sessionToken }
        var machine = false
        do {
            try JSONScanner.scan(payload) { key, value in
                if key == "sub", case .string(let s) = value { machine = s.hasPrefix("mch_") }
            }
        } catch {
            return .sessionToken
        }
        return machine ? .m2mToken : .sessionToken
    }

    /// The type of a JWT already parsed (for the session verifier, which then reads it no second time): the
    /// same answer as `detect(_:)` gives for the token's text.
    public static func detect(_ parsed: ParsedToken) -> ClerkTokenType {
        if let typ = parsed.type, isAccessTokenType(typ) { return .oauthToken }
        return parsed.subject?.hasPrefix("mch_") == true ? .m2mToken : .sessionToken
    }

    /// RFC 9068's `typ` of a JWT access token (media types compare case-insensitively).
    static func isAccessTokenType(_ typ: String) -> Bool {
        let t = typ.lowercased()
        return t == "at+jwt" || t == "application/at+jwt"
    }
}
