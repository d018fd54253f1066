import JSON

extension TokenVerifier {
    /// Verifies a JWT-format machine token (an M2M token whose `sub` is `mch_…`, or an OAuth access token
    /// with `typ` `at+jwt`) against the instance's keys with the session tokens' strictness: canonical
    /// base64url and strict JSON, an allowed RS algorithm the key agrees with, a `kid`, the signature before
    /// any claim, then `sub`, `exp`/`nbf`/`iat` with the same leeway and `iss` as for session tokens.
    /// `azp` and pending sessions are session matters and are not consulted.
    public func verifyMachine(_ token: String, type: ClerkTokenType, nowMs: Int64) throws(TokenError) -> MachineIdentity {
        let parsed = try ParsedToken.parse(token)
        guard let algorithm = TokenAlgorithm(rawValue: parsed.algorithm) else { throw .algorithmNotAllowed }
        switch type {
        case .oauthToken:
            guard let typ = parsed.type, ClerkTokenType.isAccessTokenType(typ) else { throw .malformed("typ is not at+jwt") }
        case .m2mToken:
            if let typ = parsed.type, typ != "JWT" { throw .malformed("typ is not JWT") }
        case .sessionToken, .apiKey:
            throw .malformed("not a machine JWT")
        }
        let instance = try signedBy(parsed, algorithm: algorithm, nowMs: nowMs)

        // Signed: now the claims. Registered claims of the wrong type make the token malformed.
        let (sub, iss, clientId, scope, exp, nbf, iat) = try MachineClaims(parsed.payload).fields
        guard let sub, !sub.isEmpty else { throw .malformed("sub is missing") }
        if type == .m2mToken && !sub.hasPrefix("mch_") { throw .malformed("an M2M token's sub is not a machine") }
        let now = Double(nowMs) / 1000
        guard let exp else { throw .malformed("exp is missing") }
        if exp <= now - clockSkewSeconds { throw .expired }
        if let nbf, nbf > now + clockSkewSeconds { throw .notYetValid }
        if let iat, iat > now + clockSkewSeconds { throw .issuedInTheFuture }
        guard let iss, iss.hasPrefix("https://") else { throw .issuerMismatch }

        let claims = (try? JSONValue.parseStrict(parsed.payload)) ?? .null
        var scopes: [String] = []
        // RFC 9068's `scope` (space-separated), or Clerk's `scopes` (a list or a string); an M2M token without
        // either names the machines it may reach in `aud`.
        if let scope { scopes = scope.split(separator: " ").map(String.init) }
        if scopes.isEmpty, let listed = claims["scopes"] { scopes = Self.strings(listed) }
        if scopes.isEmpty, type == .m2mToken, let aud = claims["aud"] { scopes = Self.strings(aud) }
        // Bounded conversion: an `exp` of 1e300 has passed the checks above and must not trap here.
        let expMs = (exp * 1000).isFinite && abs(exp * 1000) < 9e15 ? Int64(exp * 1000) : nil
        return MachineIdentity(
            tokenType: type, subject: sub, scopes: scopes, clientId: type == .oauthToken ? clientId : nil,
            claims: claims, environment: instance.environment, expiresAtMs: expMs)
    }

    /// Strings of a list, or the words of a string (space- or comma-separated); anything else none.
    static func strings(_ value: JSONValue) -> [String] {
        switch value {
        case .string(let s): return s.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
        case .array(let items): return items.compactMap(\.stringValue)
        default: return []
        }
    }
}
