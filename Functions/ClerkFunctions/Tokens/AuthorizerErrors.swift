import ClerkKit
import JSON
import LambdaRuntime
import Store

/// The error API Gateway turns into 401 for a REST TOKEN authorizer: the message must be exactly `Unauthorized`.
public struct Unauthorized: LambdaReportableError {
    public var errorType: String { "Unauthorized" }
    public var errorMessage: String { "Unauthorized" }
}

/// Our side failed (keys unreachable, database down): the authorizer errs (API Gateway answers 500)
/// rather than deny, so that an outage never looks like a signed-out user.
public struct AuthorizerUnavailable: LambdaReportableError {
    /// `jwks_unavailable` or `database_unavailable`.
    public let reason: String
    public var errorType: String { "AuthorizerUnavailable" }
    public var errorMessage: String { "cannot verify tokens right now: \(reason)" }
}
