/// Why a Backend API call failed, typed so callers decide without reading text.
public enum ClerkAPIError: Error, Equatable, CustomStringConvertible {
    /// 404: the resource (or token) does not exist.
    case notFound
    /// 401 or 403: the secret key is wrong or lacks access — our configuration, not the caller's.
    case unauthorized(status: Int)
    /// 429 and the `Retry-After` wait does not fit in the time left.
    case rateLimited(retryAfterSeconds: Int)
    /// A transport failure, timeout or 5xx that outlasted the retries within the deadline.
    case unavailable(String)
    /// Another 4xx: the request itself was refused; `code` is Clerk's `errors[0].code` when it sent a plain one.
    case rejected(status: Int, code: String? = nil)
    /// A 2xx whose body is not the documented shape.
    case malformedResponse(String)

    /// The short code logs and answers use.
    public var code: String {
        switch self {
        case .notFound: "not_found"
        case .unauthorized: "unauthorized"
        case .rateLimited: "rate_limited"
        case .unavailable: "unavailable"
        case .rejected: "rejected"
        case .malformedResponse: "malformed_response"
        }
    }

    public var description: String {
        switch self {
        case .notFound: "Clerk answered 404"
        case .unauthorized(let s): "Clerk refused the secret key (HTTP \(s))"
        case .rateLimited(let s): "Clerk rate-limited the call (Retry-After \(s) s)"
        case .unavailable(let why): "Clerk's Backend API is unavailable: \(why)"
        case .rejected(let s, let code): "Clerk refused the request (HTTP \(s)\(code.map { ", \($0)" } ?? ""))"
        case .malformedResponse(let why): "Clerk's answer is not the documented shape: \(why)"
        }
    }
}
