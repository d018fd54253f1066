import COpenSSL
import ClerkKit
import JSON

#if canImport(Glibc)
    import Glibc
#endif

/// An RSA private key for development: mints Clerk-shaped session tokens and publishes its JWKS, so the
/// whole token path runs with no Clerk account (the `dev-keys` and `sign-token` tools, and the tests).
public final class DevelopmentKey: @unchecked Sendable {
    private let pkey: OpaquePointer
    /// The `kid` it signs with and publishes.
    public let keyId: String

    /// Why a key could not be made or read.
    public enum KeyError: Error { case generationFailed, invalidPEM, signingFailed }

    /// Generates a new key (2048 bits unless told otherwise).
    public init(bits: Int = 2048, keyId: String = "ins_dev_" + Base64.encode(Crypto.randomBytes(9), url: true)) throws(KeyError) {
        guard let p = clerk_rsa_generate(Int32(bits)) else { throw .generationFailed }
        pkey = p
        self.keyId = keyId
    }

    /// Reads a PEM private key.
    public init(pem: String, keyId: String) throws(KeyError) {
        var text = pem
        guard let p = text.withUTF8({ clerk_private_key_from_pem(UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), $0.count) })
        else { throw .invalidPEM }
        pkey = p
        self.keyId = keyId
    }

    deinit { EVP_PKEY_free(pkey) }

    /// The private key as PEM (keep it out of version control).
    public var privatePEM: String { pem(privateKey: true) }
    /// The public key as PEM (the value for `CLERK_JWT_KEY`).
    public var publicPEM: String { pem(privateKey: false) }

    private func pem(privateKey: Bool) -> String {
        var length = 0
        guard let p = clerk_pem(pkey, privateKey ? 1 : 0, &length) else { return "" }
        defer { free(p) }
        return String(cString: p)
    }

    /// The public key as a JWK (`alg` may be omitted to publish a key usable with any RS algorithm).
    public func jwk(algorithm: String? = "RS256", keyId: String? = nil) -> String {
        var n = [UInt8](repeating: 0, count: 1024)
        var e = [UInt8](repeating: 0, count: 16)
        let nl = Int(clerk_rsa_component(pkey, "n", &n, 1024))
        let el = Int(clerk_rsa_component(pkey, "e", &e, 16))
        let alg = algorithm.map { #","alg":"\#($0)""# } ?? ""
        return
            #"{"use":"sig","kty":"RSA","kid":"\#(keyId ?? self.keyId)"\#(alg),"n":"\#(Base64.encode(n[0..<nl], url: true))","e":"\#(Base64.encode(e[0..<el], url: true))"}"#
    }

    /// A JWKS document with this key.
    public func jwks(algorithm: String? = "RS256") -> String { #"{"keys":[\#(jwk(algorithm: algorithm))]}"# }

    /// Signs `payloadJSON` as a JWT with this key; `header` overrides the default header fields.
    public func sign(payloadJSON: String, algorithm: String = "RS256", header: String? = nil) throws(KeyError) -> String {
        let bits = TokenAlgorithm(rawValue: algorithm)?.shaBits ?? 256
        let head = header ?? #"{"alg":"\#(algorithm)","cat":"cl_B7d4PD111AAA","kid":"\#(keyId)","typ":"JWT"}"#
        let input = Base64.encode(Array(head.utf8), url: true) + "." + Base64.encode(Array(payloadJSON.utf8), url: true)
        var signature = [UInt8](repeating: 0, count: 1024)
        var length = signature.count
        let bytes = Array(input.utf8)
        guard clerk_rsa_sign(pkey, Int32(bits), bytes, bytes.count, &signature, &length) == 1 else { throw .signingFailed }
        return input + "." + Base64.encode(signature[0..<length], url: true)
    }

    /// A Clerk v2 session token payload for `subject`, valid for `ttl` seconds from `now`. The strings are
    /// JSON-quoted (a `--sub` of `x","org_role":"admin` stays one string); `extra` is raw JSON members.
    public static func sessionClaims(
        subject: String, issuer: String, now: Int64, ttl: Int64 = 60, sessionId: String? = nil,
        authorizedParty: String? = nil, extra: String = ""
    ) -> String {
        let sid = sessionId ?? "sess_" + Base64.encode(Crypto.randomBytes(15), url: true)
        var fields = [
            #""sub":"# + JSONText.quoted(subject), #""iss":"# + JSONText.quoted(issuer), #""iat":\#(now)"#,
            #""nbf":\#(now - 10)"#, #""exp":\#(now + ttl)"#, #""sid":"# + JSONText.quoted(sid),
            #""v":2"#, #""fva":[0,-1]"#, #""sts":"active""#
        ]
        if let azp = authorizedParty { fields.append(#""azp":"# + JSONText.quoted(azp)) }
        if !extra.isEmpty { fields.append(extra) }
        return "{" + fields.joined(separator: ",") + "}"
    }

    /// The header of a JWT M2M token: Clerk's machine category, `typ` JWT.
    public func m2mHeader(algorithm: String = "RS256") -> String {
        #"{"alg":"\#(algorithm)","cat":"cl_B7d4PD333AAA","kid":"\#(keyId)","typ":"JWT"}"#
    }

    /// The header of a JWT OAuth access token (RFC 9068 `typ`).
    public func accessTokenHeader(algorithm: String = "RS256") -> String {
        #"{"alg":"\#(algorithm)","kid":"\#(keyId)","typ":"at+jwt"}"#
    }

    /// A machine token payload for `subject` (`mch_…` for M2M, a user for OAuth), valid for `ttl` seconds:
    /// M2M tokens list `scopes`, OAuth access tokens carry `scope` (space-separated) and `client_id`.
    /// Strings are JSON-quoted; `extra` is raw JSON members (custom claims).
    public static func machineClaims(
        subject: String, issuer: String, now: Int64, ttl: Int64 = 3600, scopes: [String] = [],
        clientId: String? = nil, extra: String = ""
    ) -> String {
        var fields = [
            #""sub":"# + JSONText.quoted(subject), #""iss":"# + JSONText.quoted(issuer), #""iat":\#(now)"#,
            #""nbf":\#(now - 10)"#, #""exp":\#(now + ttl)"#,
            #""jti":"# + JSONText.quoted(Base64.encode(Crypto.randomBytes(12), url: true))
        ]
        if let clientId {
            fields.append(#""client_id":"# + JSONText.quoted(clientId))
            fields.append(#""scope":"# + JSONText.quoted(scopes.joined(separator: " ")))
        } else {
            fields.append(#""scopes":["# + scopes.map { JSONText.quoted($0) }.joined(separator: ",") + "]")
        }
        if !extra.isEmpty { fields.append(extra) }
        return "{" + fields.joined(separator: ",") + "}"
    }
}
