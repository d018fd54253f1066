import JSON

/// A verified machine credential (API key, M2M token or OAuth access token): who it speaks for and what it
/// may do. Never holds the token itself.
public struct MachineIdentity: Sendable, Equatable {
    /// Which kind of token it was.
    public let tokenType: ClerkTokenType
    /// `user_…`, `org_…` or `mch_…`.
    public let subject: String
    /// The scopes granted (for M2M tokens, the machines it may reach).
    public let scopes: [String]
    /// The OAuth application's client id (OAuth access tokens only).
    public let clientId: String?
    /// The token's custom claims (opaque tokens), or its whole payload (JWTs); `null` when none.
    public let claims: JSONValue
    /// The environment of the instance that vouched for it.
    public let environment: String
    /// When it stops being valid (epoch ms), if it says.
    public let expiresAtMs: Int64?

    /// Describes a verified token.
    public init(
        tokenType: ClerkTokenType, subject: String, scopes: [String], clientId: String?, claims: JSONValue,
        environment: String, expiresAtMs: Int64?
    ) {
        self.tokenType = tokenType
        self.subject = subject
        self.scopes = scopes
        self.clientId = clientId
        self.claims = claims
        self.environment = environment
        self.expiresAtMs = expiresAtMs
    }

    /// Whether the subject is a Clerk user (whose internal row the authorizer resolves).
    public var isUserSubject: Bool { subject.hasPrefix("user_") }
}
