import ClerkKit
import JSON
import LambdaRuntime
import Store

/// `me` (`GET /me`): the signed-in user's profile and live organization memberships from the database.
///
/// Behind the authorizer it reads `userId` and `tokenType` from the authorizer context, and serves the token
/// types its own `CLERK_ACCEPTS_TOKEN` names (session tokens alone by default: verifyToken may accept a
/// user's API key or a third-party OAuth token for other routes). Deployed without the authorizer it
/// verifies the bearer session token (or `__session` cookie) itself with the same configuration as `verifyToken`.
public struct MeFunction: Handler {
    private let profiles: any ProfileReader
    private let verifier: TokenVerifier?
    /// The token types served, by verifyToken's parser of `CLERK_ACCEPTS_TOKEN`.
    private let accepted: Set<ClerkTokenType>

    /// Sets up the database; token settings are optional (only needed without the authorizer).
    public init(_ ctx: InitContext, fetcher: @escaping JWKSFetcher = JWKSCache.curlFetcher) throws {
        let database = try DatabaseSession(environment: ctx.environment, logger: ctx.logger)
        let accepted = try MachineTokenConfig.acceptedTypes(ctx.environment["CLERK_ACCEPTS_TOKEN"])
        // No token settings at all is fine (the authorizer answers for `me`); settings that are wrong, such
        // as a plain-http JWKS URL, are an init error as they are for verifyToken, not a silent 401.
        let verifier: TokenVerifier?
        do {
            verifier = try TokenConfig.verifier(ctx.environment, logger: ctx.logger, fetcher: fetcher)
        } catch ConfigError.missing {
            verifier = nil
        }
        self.init(profiles: PostgresProfileReader(database: database), verifier: verifier, accepted: accepted)
    }

    /// Reads `profiles`; `verifier` checks bearer session tokens when there is no authorizer context.
    init(profiles: any ProfileReader, verifier: TokenVerifier?, accepted: Set<ClerkTokenType>) {
        self.profiles = profiles
        self.verifier = verifier
        self.accepted = accepted
    }

    struct Profile: Encodable, Sendable {
        var id: String
        var clerkUserId: String
        var environment: String
        var email: String?
        var firstName: String?
        var lastName: String?
        var username: String?
        var imageUrl: String?
        var tier: String?
        var createdAt: Int64
        var updatedAt: Int64
        /// Live memberships in live organizations.
        var organizations: [Membership]
        /// The current Clerk Billing plan, with its status (`past_due` shows) and period end; absent without one.
        var plan: CurrentPlan?
    }

    struct Membership: Encodable, Sendable {
        /// `org_…`.
        var id: String
        var slug: String?
        var name: String?
        var role: String?
    }

    public func handle(_ event: [UInt8], context: Context) throws -> [UInt8] { respond(event, context).encoded() }

    func respond(_ event: [UInt8], _ context: Context) -> APIResponse {
        let log = context.logger
        guard let request = try? APIRequest.decode(event) else {
            return APIResponse(Failure(.malformedRequest, "expected an API Gateway or Function URL request"))
        }
        do {
            let user: StoredUser?
            if let id = request.authorizer["userId"]?.stringValue.flatMap(PostgresUUID.init(uuidString:)) {
                try checkAuthorizerTokenType(request.authorizer, log: log)
                user = try profiles.user(id: id)
            } else {
                user = try verifiedUser(request, log: log)
            }
            guard let user, !user.deleted else {
                log.info("me: no such user", ["reason": user == nil ? "user_not_found" : "user_deleted"])
                return APIResponse(Refusal(404, user == nil ? "user_not_found" : "user_deleted", "no profile for this user"))
            }
            let memberships = try profiles.memberships(userId: user.id)
                .map { Membership(id: $0.clerkOrgId, slug: $0.slug, name: $0.name, role: $0.role) }
            return APIResponse(
                JSONAnswer(
                    200,
                    Profile(
                        id: user.id.postgresText, clerkUserId: user.clerkUserId, environment: user.environment,
                        email: user.email, firstName: user.firstName, lastName: user.lastName,
                        username: user.username, imageUrl: user.imageUrl, tier: user.tier,
                        createdAt: user.createdAtMs, updatedAt: user.updatedAtMs, organizations: memberships,
                        plan: try profiles.currentPlan(userId: user.id))))
        } catch let refusal as Refusal {
            return APIResponse(refusal)
        } catch {
            log.error("me could not read the database", ["reason": "database_unavailable"])
            return APIResponse(Failure(.databaseUnavailable, "try again shortly"))
        }
    }

    /// What vouched for the user behind the authorizer must be a type `me` serves: a context without
    /// `tokenType` (an authorizer of another make, or one older than machine tokens) cannot say, so it fails closed.
    func checkAuthorizerTokenType(_ authorizer: JSONObject, log: Logger) throws(Refusal) {
        guard case .string(let name)? = authorizer["tokenType"], !name.isEmpty else {
            log.warn("me refused", ["reason": "token_type_missing"])
            throw Refusal(403, "token_type_missing", "the authorizer context does not say which token type it verified")
        }
        guard let type = ClerkTokenType(rawValue: name), accepted.contains(type) else {
            log.warn("me refused", ["reason": "token_type_not_accepted", "tokenType": .string(String(name.prefix(32)))])
            throw Refusal(403, "token_type_not_accepted", "me does not serve this token type")
        }
    }

    /// Without the authorizer: the user of the bearer session token (or `__session` cookie), verified here.
    /// Machine tokens are not verified here (no Backend API client), whatever the setting says.
    func verifiedUser(_ request: APIRequest, log: Logger) throws -> StoredUser? {
        guard let verifier else {
            log.warn("me refused", ["reason": "no_authorizer_context"])
            throw Refusal(401, "unauthorized", "no authorizer context and no token configuration")
        }
        let token = BearerToken.find(authorization: request.header("authorization"), cookies: request.cookies)
        guard let token else {
            log.warn("me refused", ["reason": "token_missing"])
            throw Refusal(401, "token_missing", "send Authorization: Bearer <session token>")
        }
        // `me` answers for a signed-in person: a machine token (an M2M JWT verifies against the same keys) is not one.
        let parsed = ClerkTokenType.isOpaque(token) ? nil : try? ParsedToken.parse(token)
        let type = parsed.map(ClerkTokenType.detect) ?? ClerkTokenType.detect(token)
        guard type == .sessionToken, accepted.contains(.sessionToken) else {
            log.warn("me refused", ["reason": "token_type_not_accepted", "tokenType": .string(type.rawValue)])
            throw Refusal(401, "token_type_not_accepted", "me verifies session tokens")
        }
        do {
            let session =
                try parsed.map { p throws(TokenError) in try verifier.verify(p, nowMs: Clock.nowMs()) }
                ?? verifier.verify(token, nowMs: Clock.nowMs())
            return try profiles.user(clerkUserId: session.claims.subject ?? "", environment: session.environment)
        } catch let error as TokenError {
            var metadata: Logger.Metadata = ["reason": .string(error.reason)]
            if let detail = error.detail { metadata["detail"] = .string(detail) }
            log.warning("me refused", metadata: metadata)
            throw error.isInfrastructure
                ? Refusal(503, error.reason, "cannot verify tokens right now") : Refusal(401, error.reason, "invalid session token")
        }
    }
}

extension Functions {
    /// `me`: the profile of the user the authorizer (or the bearer token) identifies.
    public static let me = LambdaFunction(
        name: "me",
        summary:
            "GET /me: the signed-in user's profile and organizations (authorizer context of a token type CLERK_ACCEPTS_TOKEN names, session tokens by default; or a bearer session token without one).",
        accepts: ["API Gateway HTTP API v2 with a Lambda authorizer context", "HTTP request with Authorization: Bearer"]
    ) { try MeFunction($0) }
}
