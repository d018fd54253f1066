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
    /// Clerk refused our request itself (400, 422 or another 4xx: an API version or a body it does not take),
    /// with its `errors[0].code` when it sent one: our error, not a verdict on the token.
    case clerkRejected(status: Int, code: String?)
    /// Clerk answered 429, or did so less than its `Retry-After` ago: no call is made until then.
    case clerkRateLimited(retryAfterSeconds: Int)
    /// The container's own cap on uncached lookups (per second, or at once) refused this one without a call.
    case lookupsThrottled(String)
    /// Clerk could not answer (outage, timeout, an answer not in the documented shape).
    case clerkUnavailable(String)

    /// The stable reason code.
    public var reason: String {
        switch self {
        case .invalid: "token_invalid"
        case .revoked: "token_revoked"
        case .expired: "token_expired"
        case .jwt(let e): e.reason
        case .clerkUnauthorized: "clerk_api_unauthorized"
        case .clerkRejected: "clerk_api_rejected"
        case .clerkRateLimited: "clerk_api_rate_limited"
        case .lookupsThrottled: "lookups_throttled"
        case .clerkUnavailable: "clerk_api_unavailable"
        }
    }

    /// A fixed phrase or Clerk's status for the log line (never token text).
    public var detail: String? {
        switch self {
        case .jwt(let e): e.detail
        case .clerkRejected(let status, _): "Clerk answered HTTP \(status)"
        case .clerkRateLimited(let seconds): "Clerk asked for no calls; \(seconds) s left"
        case .lookupsThrottled(let why), .clerkUnavailable(let why): why
        default: nil
        }
    }

    /// Clerk's error code (`errors[0].code`: letters, digits, `_`, `.`, `-`), for the log line.
    public var clerkCode: String? {
        if case .clerkRejected(_, let code) = self { return code }
        return nil
    }

    /// Whether the failure is ours or Clerk's, not the caller's: the authorizer errs instead of denying
    /// (API Gateway answers 5xx, which a client may retry).
    public var isInfrastructure: Bool {
        switch self {
        case .clerkUnauthorized, .clerkRejected, .clerkRateLimited, .lookupsThrottled, .clerkUnavailable: true
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
