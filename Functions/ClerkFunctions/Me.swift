import JSON
import ClerkKit
import LambdaRuntime
import Store

/// `me` (`GET /me`): the signed-in user's profile and live organization memberships from the database.
///
/// Behind the authorizer it reads `userId` from the authorizer context; deployed without one it verifies
/// the bearer token (or `__session` cookie) itself with the same configuration as `verifyToken`.
public struct MeFunction: Handler {
    private let database: DatabaseSession
    private let verifier: TokenVerifier?

    /// Sets up the database; token settings are optional (only needed without the authorizer).
    public init(_ ctx: InitContext, fetcher: @escaping JWKSFetcher = JWKSCache.curlFetcher) throws {
        database = try DatabaseSession(environment: ctx.environment, logger: ctx.logger)
        // No token settings at all is fine (the authorizer answers for `me`); settings that are wrong, such
        // as a plain-http JWKS URL, are an init error as they are for verifyToken, not a silent 401.
        do {
            verifier = try TokenConfig.verifier(ctx.environment, logger: ctx.logger, fetcher: fetcher)
        } catch ConfigError.missing {
            verifier = nil
        }
    }

    struct Profile: Encodable {
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
    }

    struct Membership: Encodable {
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
            return .error(400, "malformed_request", "expected an API Gateway or Function URL request")
        }
        let store = UserStore(connection: database.connection)
        do {
            let user: StoredUser?
            if let id = request.authorizer["userId"]?.stringValue.flatMap(PostgresUUID.init(uuidString:)) {
                user = try store.find(id: id)
            } else {
                guard let verifier else {
                    log.warn("me refused", ["reason": "no_authorizer_context"])
                    return .error(401, "unauthorized", "no authorizer context and no token configuration")
                }
                let header = request.header("authorization")
                let token = header.flatMap { $0.lowercased().hasPrefix("bearer ") ? String($0.dropFirst(7)) : nil } ?? request.cookie("__session")
                guard let token else {
                    log.warn("me refused", ["reason": "token_missing"])
                    return .error(401, "token_missing", "send Authorization: Bearer <session token>")
                }
                // `me` answers for a signed-in person: a machine token (an M2M JWT verifies against the same keys)
                // is not one.
                let parsed = ClerkTokenType.isOpaque(token) ? nil : try? ParsedToken.parse(token)
                guard (parsed.map(ClerkTokenType.detect) ?? ClerkTokenType.detect(token)) == .sessionToken else {
                    log.warn("me refused", ["reason": "token_type_not_accepted"])
                    return .error(401, "token_type_not_accepted", "me takes session tokens")
                }
                do {
                    let session = try parsed.map { p throws(TokenError) in try verifier.verify(p, nowMs: Clock.nowMs()) }
                        ?? verifier.verify(token, nowMs: Clock.nowMs())
                    user = try store.find(clerkUserId: session.claims.subject ?? "", environment: session.environment)
                } catch let error as TokenError {
                    var metadata: Logger.Metadata = ["reason": .string(error.reason)]
                    if let detail = error.detail { metadata["detail"] = .string(detail) }
                    log.warning("me refused", metadata: metadata)
                    return error.isInfrastructure
                        ? .error(503, error.reason, "cannot verify tokens right now") : .error(401, error.reason, "invalid session token")
                }
            }
            guard let user, !user.deleted else {
                log.info("me: no such user", ["reason": user == nil ? "user_not_found" : "user_deleted"])
                return .error(404, user == nil ? "user_not_found" : "user_deleted", "no profile for this user")
            }
            let memberships = try OrganizationStore(connection: database.connection).memberships(userId: user.id)
                .map { Membership(id: $0.clerkOrgId, slug: $0.slug, name: $0.name, role: $0.role) }
            return .json(200, Profile(id: user.id.postgresText, clerkUserId: user.clerkUserId, environment: user.environment,
                                      email: user.email, firstName: user.firstName, lastName: user.lastName,
                                      username: user.username, imageUrl: user.imageUrl, tier: user.tier,
                                      createdAt: user.createdAtMs, updatedAt: user.updatedAtMs, organizations: memberships))
        } catch {
            log.error("me could not read the database", ["reason": "database_unavailable"])
            return .error(503, "database_unavailable", "try again shortly")
        }
    }
}

extension Functions {
    /// `me`: the profile of the user the authorizer (or the bearer token) identifies.
    public static let me = LambdaFunction(
        name: "me", summary: "GET /me: the signed-in user's profile and organizations (authorizer context, or a bearer token without one).",
        accepts: ["API Gateway HTTP API v2 with a Lambda authorizer context", "HTTP request with Authorization: Bearer"]
    ) { try MeFunction($0) }
}
