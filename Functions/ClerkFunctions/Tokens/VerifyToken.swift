import ClerkKit
import JSON
import LambdaRuntime
import Store

/// `verifyToken`: a Clerk session token checked against the instance's keys, answering in the shape of
/// the event that asked: HTTP API authorizer (payload 2.0, simple response), REST TOKEN or REQUEST
/// authorizer (IAM policy), or a direct invocation `{"token": …}`. A valid token for a user the database
/// does not know yet creates a minimal row, so `userId` is always the internal id.
public struct VerifyTokenFunction: Handler {
    private let verifier: TokenVerifier
    private let users: any TokenUserStore
    private let directory: (any ClerkUserLookUp)?
    let guards: OrganizationGuards
    let machine: MachineTokenConfig

    /// Sets up the verifier (keys fetched lazily, cached across invocations) and the database.
    public init(_ ctx: InitContext, fetcher: @escaping JWKSFetcher = JWKSCache.curlFetcher) throws {
        let verifier = try TokenConfig.verifier(ctx.environment, logger: ctx.logger, fetcher: fetcher)
        let database = try DatabaseSession(environment: ctx.environment, logger: ctx.logger)
        let api = try ClerkAPIConfig(environment: ctx.environment)
        let directory = try ClerkUserDirectory(config: api)
        let machine = try MachineTokenConfig(environment: ctx.environment, api: api, keys: verifier)
        let guards = try OrganizationGuards(environment: ctx.environment)
        if guards.machineRefusal != nil, machine.accepted.contains(where: { $0 != .sessionToken }) {
            // Allowed (one route may take session tokens alone), but every machine token will be refused: say so once.
            ctx.logger.warn(
                "an organization guard refuses every machine token CLERK_ACCEPTS_TOKEN accepts",
                ["reason": "org_guard_refuses_machine_tokens"])
        }
        self.init(
            verifier: verifier, users: PostgresTokenUsers(database: database), directory: directory,
            guards: guards, machine: machine)
    }

    /// Checks tokens with `verifier` and resolves their users in `users`, filled from `directory` when it is set
    /// (in-memory ones in the unit tier).
    init(
        verifier: TokenVerifier, users: any TokenUserStore, directory: (any ClerkUserLookUp)?, guards: OrganizationGuards,
        machine: MachineTokenConfig
    ) {
        self.verifier = verifier
        self.users = users
        self.directory = directory
        self.guards = guards
        self.machine = machine
    }

    /// The outcome of checking one token, before it is shaped for the caller.
    enum Outcome {
        case allowed(VerifiedSession, userId: PostgresUUID)
        /// A machine credential; `userId` only when its subject is a user.
        case allowedMachine(MachineIdentity, userId: PostgresUUID?)
        case denied(reason: String)
        case unavailable(reason: String)
    }

    /// Answers in the shape of the event that asked.
    public func handle(_ bytes: [UInt8], context: Context) throws -> [UInt8] {
        let request = try AuthorizerRequest.decode(bytes)
        let outcome = check(request.token, shape: request.shape, log: context.logger, metrics: context.metrics)
        switch request {
        case .httpAPI: return try simple(outcome)
        case .rest(_, let methodArn, _): return try policy(outcome, arn: methodArn)
        case .direct: return direct(outcome)
        }
    }

    /// Verifies and resolves the user; logs every refusal with its reason (never the token).
    func checkUncounted(_ token: String?, shape: String, log: Logger) -> Outcome {
        guard let token, !token.isEmpty else {
            log.warn("token rejected", ["reason": "token_missing", "shape": .string(shape)])
            return .denied(reason: "token_missing")
        }
        // One parse serves the type and the session check (parsing twice cost 2.6 µs a check); a token that
        // does not parse is typed from its text, as before, and refused by the verifier with the reason.
        let parsed = ClerkTokenType.isOpaque(token) ? nil : try? ParsedToken.parse(token)
        let type = parsed.map(ClerkTokenType.detect) ?? ClerkTokenType.detect(token)
        guard machine.accepted.contains(type) else {
            log.warn("token rejected", ["reason": "token_type_not_accepted", "tokenType": .string(type.rawValue), "shape": .string(shape)])
            return .denied(reason: "token_type_not_accepted")
        }
        if type != .sessionToken { return checkMachine(token, type: type, shape: shape, log: log) }
        let session: VerifiedSession
        do {
            if let parsed {
                session = try verifier.verify(parsed, nowMs: Clock.nowMs())
            } else {
                session = try verifier.verify(token, nowMs: Clock.nowMs())
            }
        } catch {
            var metadata: Logger.Metadata = ["reason": .string(error.reason), "shape": .string(shape)]
            if let detail = error.detail { metadata["detail"] = .string(detail) }
            log.warning("token rejected", metadata: metadata)
            return error.isInfrastructure ? .unavailable(reason: error.reason) : .denied(reason: error.reason)
        }
        if let refusal = organizationRefusal(session, guards: guards, shape: shape, log: log) { return .denied(reason: refusal) }
        let sub = session.claims.subject ?? ""
        switch resolveUser(sub, environment: session.environment, shape: shape, log: log) {
        case .found(let id):
            log.debug("token verified", ["clerkUserId": .string(sub), "environment": .string(session.environment)])
            return .allowed(session, userId: id)
        case .refused(let outcome):
            return outcome
        }
    }

    /// What resolving a Clerk user to its internal row gave.
    enum UserResolution {
        case found(PostgresUUID)
        case refused(Outcome)
    }

    /// The internal id of Clerk user `sub`: filled from Clerk's Backend API or created just in time when the
    /// database does not know it yet; a tombstone or a user Clerk does not have is refused (logged).
    func resolveUser(_ sub: String, environment: String, shape: String, log: Logger) -> UserResolution {
        do {
            if let directory, try !users.exists(clerkUserId: sub, environment: environment),
                let answer = directory.lookUp(sub, environment: environment, deadlineMs: Clock.nowMs() + 3000)
            {
                switch answer {
                case .notFound:
                    log.warn("token rejected", ["reason": "user_not_found", "shape": .string(shape), "clerkUserId": .string(sub)])
                    return .refused(.denied(reason: "user_not_found"))
                case .found(let profile, let json):
                    // Through the webhooks' own sync function, so a racing user.created changes nothing twice.
                    var record = UserRecord(profile, json: json)
                    record.clerkUserId = sub
                    _ = try users.apply(
                        UserChange(
                            kind: .updated, deliveryId: "jit:\(sub):\(profile.updatedAt ?? 0)",
                            environment: environment, user: record))
                    log.info("user filled from Clerk just in time", ["clerkUserId": .string(sub), "environment": .string(environment)])
                case .unavailable(let error):
                    log.warn(
                        "Clerk's Backend API could not fill the user; a minimal row stands in",
                        ["reason": .string(error.code), "clerkUserId": .string(sub)])
                }
            }
            let user = try users.findOrCreate(clerkUserId: sub, environment: environment)
            if user.deleted {
                log.warn("token rejected", ["reason": "user_deleted", "shape": .string(shape), "clerkUserId": .string(sub)])
                return .refused(.denied(reason: "user_deleted"))
            }
            if user.created { log.info("user created just in time", ["clerkUserId": .string(sub), "environment": .string(environment)]) }
            return .found(user.id)
        } catch {
            log.error("token check could not reach the database", ["reason": "database_unavailable", "sqlState": .string(error.sqlState)])
            return .refused(.unavailable(reason: "database_unavailable"))
        }
    }

    private func contextValues(_ session: VerifiedSession, _ userId: PostgresUUID) -> [String: String] {
        [
            "tokenType": ClerkTokenType.sessionToken.rawValue, "userId": userId.postgresText, "clerkUserId": session.claims.subject ?? "",
            "sessionId": session.claims.sessionId ?? "", "environment": session.environment
        ]
        .merging(Self.organizationContext(session)) { own, _ in own }
    }

    private func simple(_ outcome: Outcome) throws -> [UInt8] {
        switch outcome {
        case .allowed(let s, let id):
            AuthorizerAnswer.bytes(AuthorizerAnswer.Simple(isAuthorized: true, context: contextValues(s, id)))
        case .allowedMachine(let m, let id):
            AuthorizerAnswer.bytes(AuthorizerAnswer.Simple(isAuthorized: true, context: Self.machineContext(m, id)))
        case .denied(let reason):
            AuthorizerAnswer.bytes(AuthorizerAnswer.Simple(isAuthorized: false, context: ["reason": reason]))
        case .unavailable(let reason): throw AuthorizerUnavailable(reason: reason)
        }
    }

    private func policy(_ outcome: Outcome, arn: String) throws -> [UInt8] {
        switch outcome {
        case .allowed(let s, let id):
            return AuthorizerAnswer.bytes(
                AuthorizerAnswer.Policy(
                    principalId: s.claims.subject ?? "", effect: "Allow", methodArn: arn,
                    context: contextValues(s, id)))
        case .allowedMachine(let m, let id):
            return AuthorizerAnswer.bytes(
                AuthorizerAnswer.Policy(
                    principalId: m.subject, effect: "Allow", methodArn: arn,
                    context: Self.machineContext(m, id)))
        case .denied(let reason) where reason == "user_deleted":
            // A real user who may not come in: an explicit Deny (403), not "who are you" (401).
            return AuthorizerAnswer.bytes(
                AuthorizerAnswer.Policy(
                    principalId: "deleted", effect: "Deny", methodArn: arn,
                    context: ["reason": reason]))
        case .denied:
            throw Unauthorized()
        case .unavailable(let reason):
            throw AuthorizerUnavailable(reason: reason)
        }
    }

    private func direct(_ outcome: Outcome) -> [UInt8] {
        switch outcome {
        case .allowed(let s, let id):
            AuthorizerAnswer.bytes(
                AuthorizerAnswer.Direct(
                    context: contextValues(s, id), valid: true,
                    claims: (try? JSONValue.parse(s.payload)) ?? .null))
        case .allowedMachine(let m, let id):
            AuthorizerAnswer.bytes(AuthorizerAnswer.Direct(context: Self.machineContext(m, id), valid: true, claims: m.claims))
        case .denied(let reason), .unavailable(let reason):
            AuthorizerAnswer.bytes(AuthorizerAnswer.Direct(valid: false, reason: reason))
        }
    }
}

extension Functions {
    /// `verifyToken`: the HTTP API authorizer and service-to-service token check.
    public static let verifyToken = LambdaFunction(
        name: "verifyToken",
        summary:
            "Clerk session and machine token check (CLERK_ACCEPTS_TOKEN): HTTP API authorizer (2.0 simple), REST TOKEN/REQUEST authorizer, or {\"token\":…}.",
        accepts: [
            "HTTP API Lambda authorizer, payload 2.0 (type REQUEST)", "REST API TOKEN authorizer",
            "REST API REQUEST authorizer", "direct {\"token\": \"…\"}"
        ]
    ) { try VerifyTokenFunction($0) }
}
