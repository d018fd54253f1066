import ClerkKit
import JSON
import LambdaRuntime
import Store

extension VerifyTokenFunction {
    /// Checks a machine credential (API key, M2M or OAuth access token), then `CLERK_REQUIRED_SCOPES`, then
    /// resolves a user subject as session tokens are. Logs every refusal with its reason and the token type,
    /// never the token (the subject only once Clerk or the signature has vouched for it).
    func checkMachine(_ token: String, type: ClerkTokenType, shape: String, log: Logger) -> Outcome {
        guard let verifier = machine.verifier else { return .denied(reason: "token_type_not_accepted") }
        // A route that needs an organization or one of its permissions takes no machine token (none carries
        // either), so the refusal comes before the lookup: no billed call for an answer that cannot change it.
        if let reason = guards.machineRefusal {
            log.warn(
                "token rejected",
                [
                    "reason": .string(reason), "tokenType": .string(type.rawValue), "shape": .string(shape),
                    "detail": "a machine token has no organization"
                ])
            return .denied(reason: reason)
        }
        let identity: MachineIdentity
        do {
            identity = try verifier.verify(token, type: type, nowMs: Clock.nowMs())
        } catch {
            var metadata: Logger.Metadata = ["reason": .string(error.reason), "tokenType": .string(type.rawValue), "shape": .string(shape)]
            if let detail = error.detail { metadata["detail"] = .string(detail) }
            if let code = error.clerkCode { metadata["clerkCode"] = .string(code) }
            if error.isInfrastructure {
                log.error("machine token could not be checked", metadata: metadata)
                return .unavailable(reason: error.reason)
            }
            log.warning("token rejected", metadata: metadata)
            return .denied(reason: error.reason)
        }
        let missing = machine.requiredScopes.filter { !identity.scopes.contains($0) }
        if !missing.isEmpty {
            log.warn(
                "token rejected",
                [
                    "reason": "scope_missing", "tokenType": .string(type.rawValue), "shape": .string(shape),
                    "subject": .string(identity.subject), "missing": .string(missing.joined(separator: ","))
                ])
            return .denied(reason: "scope_missing")
        }
        guard identity.isUserSubject else {
            log.debug("token verified", ["tokenType": .string(type.rawValue), "subject": .string(identity.subject)])
            return .allowedMachine(identity, userId: nil)
        }
        switch resolveUser(identity.subject, environment: identity.environment, shape: shape, log: log) {
        case .found(let id):
            log.debug("token verified", ["tokenType": .string(type.rawValue), "clerkUserId": .string(identity.subject)])
            return .allowedMachine(identity, userId: id)
        case .refused(let outcome):
            return outcome
        }
    }

    /// `tokenType`, `subject`, `scopes` (comma-separated), `environment`, `clientId` for OAuth tokens, and
    /// `userId` with `clerkUserId` for user subjects only (authorizer context values are strings).
    static func machineContext(_ m: MachineIdentity, _ userId: PostgresUUID?) -> [String: String] {
        var out = [
            "tokenType": m.tokenType.rawValue, "subject": m.subject, "scopes": m.scopes.joined(separator: ","),
            "environment": m.environment
        ]
        if m.tokenType == .oauthToken { out["clientId"] = m.clientId ?? "" }
        if let userId {
            out["userId"] = userId.postgresText
            out["clerkUserId"] = m.subject
        }
        return out
    }
}
