/// Why a machine token was refused, or why it could not be checked. `reason` is what logs and answers carry;
/// no case holds the token.
public enum MachineTokenError: Error, Equatable, Sendable {
    /// Clerk does not know it (404), or it is not shaped like one of Clerk's tokens at all.
    case invalid
    /// Clerk says it was revoked.
    case revoked
    /// Clerk says it expired, or its `expiration` has passed.
    case expired
    /// A JWT-format machine token failed the local checks (the session tokens' reasons).
    case jwt(TokenError)
    /// Clerk refused our secret key (401/403): our configuration, so the authorizer errs.
    case clerkUnauthorized
    /// Clerk could not answer (outage, timeout, rate limit, an answer not in the documented shape).
    case clerkUnavailable(String)

    /// The stable reason code.
    public var reason: String {
        switch self {
        case .invalid: "token_invalid"
        case .revoked: "token_revoked"
        case .expired: "token_expired"
        case .jwt(let e): e.reason
        case .clerkUnauthorized: "clerk_api_unauthorized"
        case .clerkUnavailable: "clerk_api_unavailable"
        }
    }

    /// A fixed phrase or Clerk's status for the log line (never token text).
    public var detail: String? {
        switch self {
        case .jwt(let e): e.detail
        case .clerkUnavailable(let why): why
        default: nil
        }
    }

    /// Whether the failure is ours or Clerk's, not the caller's: the authorizer errs instead of denying.
    public var isInfrastructure: Bool {
        switch self {
        case .clerkUnauthorized, .clerkUnavailable: true
        case .jwt(let e): e.isInfrastructure
        default: false
        }
    }

    /// Whether the refusal may be remembered (the negative cache): only Clerk's own verdicts on the token.
    var isCacheable: Bool {
        switch self {
        case .invalid, .revoked, .expired: true
        default: false
        }
    }
}
