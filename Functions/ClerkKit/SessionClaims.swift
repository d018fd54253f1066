import FoundationEssentials

/// The claims of a Clerk session token that verification and the handlers use (v1 and v2 formats).
public struct SessionClaims: Decodable, Sendable {
    /// `sub`: the Clerk user id.
    public let subject: String?
    /// `iss`: the instance's Frontend API URL.
    public let issuer: String?
    /// `exp`, `nbf`, `iat`: epoch seconds.
    public let expiresAt: Double?
    public let notBefore: Double?
    public let issuedAt: Double?
    /// `azp`: the requesting origin.
    public let authorizedParty: String?
    /// `sid`: the session id.
    public let sessionId: String?
    /// `sts`: `active` or `pending`.
    public let sessionStatus: String?
    /// `v`: 2 for the v2 format.
    public let version: Int?
    /// v1 `org_id`, or v2 `o.id`.
    public var organizationId: String? { orgIdV1 ?? organization?.id }

    let orgIdV1: String?
    let organization: Organization?

    struct Organization: Decodable, Sendable { let id: String? }

    enum CodingKeys: String, CodingKey {
        case subject = "sub", issuer = "iss", expiresAt = "exp", notBefore = "nbf", issuedAt = "iat"
        case authorizedParty = "azp", sessionId = "sid", sessionStatus = "sts", version = "v"
        case orgIdV1 = "org_id", organization = "o"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        // A claim of the wrong type is a malformed token, so these decode strictly.
        subject = try c.decodeIfPresent(String.self, forKey: .subject)
        issuer = try c.decodeIfPresent(String.self, forKey: .issuer)
        expiresAt = try c.decodeIfPresent(Double.self, forKey: .expiresAt)
        notBefore = try c.decodeIfPresent(Double.self, forKey: .notBefore)
        issuedAt = try c.decodeIfPresent(Double.self, forKey: .issuedAt)
        authorizedParty = try? c.decodeIfPresent(String.self, forKey: .authorizedParty)
        sessionId = try? c.decodeIfPresent(String.self, forKey: .sessionId)
        sessionStatus = try? c.decodeIfPresent(String.self, forKey: .sessionStatus)
        version = try? c.decodeIfPresent(Int.self, forKey: .version)
        orgIdV1 = try? c.decodeIfPresent(String.self, forKey: .orgIdV1)
        organization = try? c.decodeIfPresent(Organization.self, forKey: .organization)
    }
}

/// A token split into its parts, signature not yet checked.
public struct ParsedToken: Sendable {
    /// The header's `alg`, `kid`, `typ`, `cat`.
    public let algorithm: String
    public let keyId: String?
    public let type: String?
    public let category: String?
    /// The decoded claims.
    public let claims: SessionClaims
    /// The payload JSON bytes (for callers that want every claim).
    public let payload: [UInt8]
    /// `header.payload` as sent: what the signature covers.
    public let signingInput: [UInt8]
    /// The signature bytes.
    public let signature: [UInt8]

    private struct Header: Decodable {
        let alg: String
        let kid: String?
        let typ: String?
        let cat: String?
    }

    /// Splits and decodes `token`; any structural problem is `malformed`.
    public static func parse(_ token: String, decoder: JSONDecoder) throws(TokenError) -> ParsedToken {
        let bytes = Array(token.utf8)
        guard bytes.count < 16_384 else { throw .malformed("token too long") }
        guard let d1 = bytes.firstIndex(of: 0x2E), let d2 = bytes[(d1 + 1)...].firstIndex(of: 0x2E),
              !bytes[(d2 + 1)...].contains(0x2E) else { throw .malformed("not three dot-separated parts") }
        guard let headerJSON = Base64.decode(bytes[..<d1]), let payload = Base64.decode(bytes[(d1 + 1)..<d2]),
              let signature = Base64.decode(bytes[(d2 + 1)...]) else { throw .malformed("a part is not base64url") }
        let header: Header
        let claims: SessionClaims
        do {
            header = try decoder.decode(Header.self, from: Data(headerJSON))
        } catch {
            throw .malformed("header is not a JWT header")
        }
        do {
            claims = try decoder.decode(SessionClaims.self, from: Data(payload))
        } catch {
            throw .malformed("payload is not a claims object")
        }
        return ParsedToken(algorithm: header.alg, keyId: header.kid, type: header.typ, category: header.cat,
                           claims: claims, payload: payload, signingInput: Array(bytes[..<d2]), signature: signature)
    }
}
