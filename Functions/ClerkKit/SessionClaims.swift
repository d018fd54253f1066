import HTTPClient
import JSON
import Logging

/// The claims of a Clerk session token that verification and the handlers use (v1 and v2 formats).
public struct SessionClaims: Sendable {
    /// `sub`: the Clerk user id.
    public private(set) var subject: String?
    /// `iss`: the instance's Frontend API URL.
    public private(set) var issuer: String?
    /// `exp`, `nbf`, `iat`: epoch seconds.
    public private(set) var expiresAt: Double?
    public private(set) var notBefore: Double?
    public private(set) var issuedAt: Double?
    /// `azp`: the requesting origin.
    public private(set) var authorizedParty: String?
    /// `sid`: the session id.
    public private(set) var sessionId: String?
    /// `sts`: `active` or `pending`.
    public private(set) var sessionStatus: String?
    /// `v`: 2 for the v2 format.
    public private(set) var version: Int?
    /// v1 `org_id`, or v2 `o.id`.
    public var organizationId: String? { orgIdV1 ?? orgIdV2 }

    private var orgIdV1: String?
    private var orgIdV2: String?

    /// Reads the claims of a payload; a claim of the wrong type makes the token malformed. Only called
    /// once the signature has verified.
    init(payload: [UInt8]) throws(TokenError) {
        var claims = SessionClaims()
        do {
            try JSONScanner.scan(payload, descend: ["o"]) { key, value in
                func string() throws -> String? {
                    switch value {
                    case .string(let s): return s
                    case .null: return nil
                    default: throw JSONScanner.Malformed()
                    }
                }
                func number() throws -> Double? {
                    switch value {
                    case .number(let d): return d
                    case .null: return nil
                    default: throw JSONScanner.Malformed()
                    }
                }
                switch key {
                case "sub": claims.subject = try string()
                case "iss": claims.issuer = try string()
                case "exp": claims.expiresAt = try number()
                case "nbf": claims.notBefore = try number()
                case "iat": claims.issuedAt = try number()
                case "azp": claims.authorizedParty = try? string()
                case "sid": claims.sessionId = try? string()
                case "sts": claims.sessionStatus = try? string()
                // Int(exactly:), never Int(_:): `1e300` or `9.3e18` must be refused, not trap the process.
                case "v":
                    guard let v = try number() else {
                        claims.version = nil
                        break
                    }
                    guard let whole = Int(exactly: v) else { throw JSONScanner.Malformed() }
                    claims.version = whole
                case "org_id": claims.orgIdV1 = try? string()
                case "o.id": claims.orgIdV2 = try? string()
                default: break
                }
            }
        } catch {
            throw .malformed("payload is not a claims object")
        }
        self = claims
    }

    private init() {}
}

/// A token split into its parts, signature not yet checked: of the payload only `iss` is read (it selects
/// whose keys to try); the claims are interpreted after the signature verifies.
public struct ParsedToken: Sendable {
    /// The header's `alg`, `kid`, `typ`, `cat`.
    public let algorithm: String
    /// `kid`: which key signed it.
    public let keyId: String?
    /// `typ`: `JWT` when present.
    public let type: String?
    /// `cat`: Clerk's token category tag.
    public let category: String?
    /// `iss`, unverified: only for choosing the instance.
    public let issuer: String?
    /// `sub` when it is a string, unverified: only for telling the token's type (`ClerkTokenType`).
    public let subject: String?
    /// The payload JSON bytes (for callers that want every claim).
    public let payload: [UInt8]
    /// `header.payload` as sent: what the signature covers.
    public let signingInput: [UInt8]
    /// The signature bytes.
    public let signature: [UInt8]

    /// Splits and decodes `token`; any structural problem is `malformed`.
    public static func parse(_ token: String) throws(TokenError) -> ParsedToken {
        let bytes = Array(token.utf8)
        guard bytes.count < 16_384 else { throw .malformed("token too long") }
        guard let d1 = bytes.firstIndex(of: 0x2E), let d2 = bytes[(d1 + 1)...].firstIndex(of: 0x2E),
            !bytes[(d2 + 1)...].contains(0x2E)
        else { throw .malformed("not three dot-separated parts") }
        guard let headerJSON = Base64.decodeURLCanonical(bytes[..<d1]), let payload = Base64.decodeURLCanonical(bytes[(d1 + 1)..<d2]),
            let signature = Base64.decodeURLCanonical(bytes[(d2 + 1)...])
        else { throw .malformed("a part is not canonical base64url") }
        var alg: String?
        var kid: String?
        var typ: String?
        var cat: String?
        do {
            try JSONScanner.scan(headerJSON) { key, value in
                guard case .string(let s) = value else {
                    // `"kid": 5` is not "no kid": a header field we read must be a string.
                    if key == "alg" || key == "kid" || key == "typ" || key == "cat" { throw JSONScanner.Malformed() }
                    return
                }
                switch key {
                case "alg": alg = s
                case "kid": kid = s
                case "typ": typ = s
                case "cat": cat = s
                default: break
                }
            }
        } catch {
            throw .malformed("header is not a JWT header")
        }
        guard let alg else { throw .malformed("header has no alg") }
        var issuer: String?
        var subject: String?
        do {
            // Well-formed (one spelling, no duplicate names) and an object; nothing but `iss` and `sub` is read yet.
            try JSONScanner.scan(payload) { key, value in
                if key == "sub", case .string(let s) = value { subject = s }
                guard key == "iss" else { return }
                guard case .string(let s) = value else { throw JSONScanner.Malformed() }
                issuer = s
            }
        } catch {
            throw .malformed("payload is not a claims object")
        }
        return ParsedToken(
            algorithm: alg, keyId: kid, type: typ, category: cat, issuer: issuer, subject: subject,
            payload: payload, signingInput: Array(bytes[..<d2]), signature: signature)
    }
}
