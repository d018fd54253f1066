/// Why a session token was refused. `reason` is what logs and responses carry (never the token).
public enum TokenError: Error, Equatable, Sendable {
    case missing
    case malformed(String)
    case algorithmNotAllowed
    case unknownKeyId
    /// No `kid` in the header while the keys come from a JWKS.
    case kidMissing
    case invalidSignature
    case expired
    case notYetValid
    case issuedInTheFuture
    case issuerMismatch
    case authorizedPartyNotAllowed
    case sessionPending
    case keysUnavailable(String)

    /// The stable reason code.
    public var reason: String {
        switch self {
        case .missing: "token_missing"
        case .malformed: "token_malformed"
        case .algorithmNotAllowed: "alg_not_allowed"
        case .unknownKeyId: "kid_unknown"
        case .kidMissing: "kid_missing"
        case .invalidSignature: "signature_invalid"
        case .expired: "token_expired"
        case .notYetValid: "token_not_yet_valid"
        case .issuedInTheFuture: "token_iat_in_future"
        case .issuerMismatch: "issuer_mismatch"
        case .authorizedPartyNotAllowed: "azp_not_allowed"
        case .sessionPending: "session_pending"
        case .keysUnavailable: "jwks_unavailable"
        }
    }

    /// What was wrong with a malformed token (a fixed phrase, never token text), for the log line.
    public var detail: String? {
        if case .malformed(let why) = self { return why }
        return nil
    }

    /// Whether the failure is ours (keys could not be fetched), not the caller's.
    public var isInfrastructure: Bool {
        if case .keysUnavailable = self { return true }
        return false
    }
}
