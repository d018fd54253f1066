import ClerkKit
import JSON
import LambdaRuntime

/// Optional route guards on a token's organization: `CLERK_REQUIRE_ORG=true` refuses tokens without an
/// active organization (`org_required`); `CLERK_REQUIRED_PERMISSION=org:feature:perm` refuses tokens
/// without that permission (`permission_missing`).
struct OrganizationGuards: Sendable {
    let requireOrganization: Bool
    let requiredPermission: String?

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
    }

    /// Whether any guard is on (claims that do not parse then refuse the token instead of being ignored).
    var isActive: Bool { requireOrganization || requiredPermission != nil }

    /// The refusal reason for `organization`, or nil when it passes.
    func refusal(_ organization: SessionClaims.Organization) -> String? {
        if requireOrganization && (organization.id ?? "").isEmpty { return "org_required" }
        if let requiredPermission, !organization.permissions.contains(requiredPermission) { return "permission_missing" }
        return nil
    }
}

extension VerifyTokenFunction {
    /// Reads the token's organization claims and applies the guards; the refusal reason, logged, or nil.
    func organizationRefusal(_ session: VerifiedSession, guards: OrganizationGuards, shape: String, log: Logger) -> String? {
        let organization: SessionClaims.Organization
        do {
            organization = try SessionClaims.organization(payload: session.payload)
        } catch {
            // Signed by Clerk, so a format we do not know: refuse only where a guard depends on it.
            guard guards.isActive else {
                log.warn("organization claims ignored", ["reason": .string(error.reason), "detail": .string(error.detail),
                                                         "shape": .string(shape), "clerkUserId": .string(session.claims.subject ?? "")])
                return nil
            }
            log.warn("token rejected", ["reason": .string(error.reason), "detail": .string(error.detail), "shape": .string(shape),
                                        "clerkUserId": .string(session.claims.subject ?? "")])
            return error.reason
        }
        guard let reason = guards.refusal(organization) else { return nil }
        log.warn("token rejected", ["reason": .string(reason), "shape": .string(shape), "clerkUserId": .string(session.claims.subject ?? ""),
                                    "orgId": .string(organization.id ?? "")])
        return reason
    }

    /// `orgId`, `orgRole`, `orgSlug`, `orgPermissions` (comma-separated), `plan`, `features`, `actor`;
    /// empty strings when absent (authorizer context values must be strings).
    static func organizationContext(_ session: VerifiedSession) -> [String: String] {
        let o = (try? SessionClaims.organization(payload: session.payload)) ?? SessionClaims.Organization()
        return ["orgId": o.id ?? "", "orgRole": o.role ?? "", "orgSlug": o.slug ?? "",
                "orgPermissions": o.permissions.joined(separator: ","), "plan": o.plans ?? "", "features": o.features ?? "",
                "actor": o.actor ?? ""]
    }
}
