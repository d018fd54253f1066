import ClerkKit
import JSON
import LambdaRuntime

/// Optional route guards on a token's organization: `CLERK_REQUIRE_ORG=true` refuses tokens without an
/// active organization (`org_required`); `CLERK_REQUIRED_PERMISSION=org:feature:perm` refuses tokens
/// without that permission (`permission_missing`); `CLERK_REQUIRED_PLAN` and `CLERK_REQUIRED_FEATURE` refuse
/// tokens whose `pla`/`fea` do not grant them as Clerk's `has({ plan })`/`has({ feature })` reads the claims
/// (`plan_missing`, `feature_missing`).
struct OrganizationGuards: Sendable {
    let requireOrganization: Bool
    let requiredPermission: String?
    let requiredPlan: BillingAuthorization.Requirement?
    let requiredFeature: BillingAuthorization.Requirement?

    /// Reads the two variables; a value that is neither true nor false, or a permission not shaped
    /// `org:feature:permission`, is an init error (a guard silently off would be worse).
    init(environment env: Environment) throws {
        switch env["CLERK_REQUIRE_ORG"]?.lowercased() {
        case nil, "", "false": requireOrganization = false
        case "true": requireOrganization = true
        default: throw ConfigError.invalid("CLERK_REQUIRE_ORG", why: "true or false")
        }
        if let p = env["CLERK_REQUIRED_PERMISSION"], !p.isEmpty {
            let parts = p.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 3, parts[0] == "org", !parts[1].isEmpty, !parts[2].isEmpty else {
                throw ConfigError.invalid("CLERK_REQUIRED_PERMISSION", why: "org:<feature>:<permission>")
            }
            requiredPermission = p
        } else {
            requiredPermission = nil
        }
        requiredPlan = try Self.requirement(env, "CLERK_REQUIRED_PLAN")
        requiredFeature = try Self.requirement(env, "CLERK_REQUIRED_FEATURE")
    }

    /// A plan or feature setting: a slug, or a slug scoped `org:`/`o:` or `user:`/`u:`.
    private static func requirement(_ env: Environment, _ name: String) throws -> BillingAuthorization.Requirement? {
        guard let text = env[name], !text.isEmpty else { return nil }
        guard let requirement = BillingAuthorization.Requirement(text.trimmingWhitespace()) else {
            throw ConfigError.invalid(name, why: "a slug, or org:<slug> or user:<slug>")
        }
        return requirement
    }

    /// Whether any guard is on (organization claims that do not read then refuse the token instead of being left out).
    var isActive: Bool { requireOrganization || requiredPermission != nil }

    /// The refusal reason for a machine token (API key, M2M or OAuth token), or nil when no guard is on. As in
    /// Clerk's SDK (`has()` is false for a machine token), a machine token has no active organization and no
    /// organization permission, whatever organization owns it.
    var machineRefusal: String? {
        if requireOrganization { return "org_required" }
        if requiredPermission != nil { return "permission_missing" }
        if requiredPlan != nil { return "plan_missing" }
        return requiredFeature == nil ? nil : "feature_missing"
    }

    /// The refusal reason for `organization`, or nil when it passes.
    func refusal(_ organization: SessionClaims.Organization) -> String? {
        if requireOrganization && (organization.id ?? "").isEmpty { return "org_required" }
        if let requiredPermission, !organization.permissions.contains(requiredPermission) { return "permission_missing" }
        if let requiredPlan, !BillingAuthorization.grants(organization.plans, requiredPlan) { return "plan_missing" }
        if let requiredFeature, !BillingAuthorization.grants(organization.features, requiredFeature) { return "feature_missing" }
        return nil
    }
}

extension VerifyTokenFunction {
    /// Reads the token's organization, plans, features and actor, and applies the guards; the refusal
    /// reason, logged, or nil. An actor that does not read refuses always (an impersonation must not pass
    /// as the user's own session); an organization that does not read refuses where a guard depends on it;
    /// anything else that does not read is left out of the context and logged.
    func organizationRefusal(_ session: VerifiedSession, guards: OrganizationGuards, shape: String, log: Logger) -> String? {
        let claims = SessionClaims.organization(payload: session.payload)
        let user = session.claims.subject ?? ""
        let refusing = claims.problems.first { $0.part == .actor } ?? (guards.isActive ? claims.problems.first { $0.part == .organization } : nil)
        if let refusing {
            log.warn(
                "token rejected",
                [
                    "reason": .string(refusing.reason), "detail": .string(refusing.detail), "shape": .string(shape),
                    "clerkUserId": .string(user)
                ])
            return refusing.reason
        }
        for problem in claims.problems {
            // Signed by Clerk, so a format we do not know: that part is left out, the rest stands.
            log.warn(
                problem.part == .organization ? "organization claims ignored" : "session claim ignored",
                ["reason": .string(problem.reason), "detail": .string(problem.detail), "shape": .string(shape), "clerkUserId": .string(user)])
        }
        guard let reason = guards.refusal(claims) else { return nil }
        log.warn(
            "token rejected",
            [
                "reason": .string(reason), "shape": .string(shape), "clerkUserId": .string(user),
                "orgId": .string(claims.id ?? "")
            ])
        return reason
    }

    /// `orgId`, `orgRole`, `orgSlug`, `orgPermissions` (comma-separated), `plan`, `features`, `actor`;
    /// empty strings when absent or left out (authorizer context values must be strings).
    static func organizationContext(_ session: VerifiedSession) -> [String: String] {
        let o = SessionClaims.organization(payload: session.payload)
        return [
            "orgId": o.id ?? "", "orgRole": o.role ?? "", "orgSlug": o.slug ?? "",
            "orgPermissions": o.permissions.joined(separator: ","), "plan": o.plans ?? "", "features": o.features ?? "",
            "actor": o.actor ?? ""
        ]
    }
}
