import JSON

extension SessionClaims {
    /// The active organization, plans, features and actor of a session token, read the way Clerk's SDK
    /// reads them (`jwtPayloadParser.ts`): v2 from `o`, `fea`, `pla`; v1 from `org_id`, `org_role`,
    /// `org_slug`, `org_permissions`. Both give the same values.
    public struct Organization: Sendable, Equatable {
        /// `org_…`, or nil when no organization is active.
        public var id: String?
        /// With the `org:` prefix (v2's `o.rol` has none; the SDK restores it).
        public var role: String?
        /// The organization's slug.
        public var slug: String?
        /// `org:<feature>:<permission>`, in token order.
        public var permissions: [String] = []
        /// `pla`: comma-separated scoped plans (`u:free_user,o:pro`), as issued.
        public var plans: String?
        /// `fea`: comma-separated scoped features (`o:articles,u:premium`), as issued.
        public var features: String?
        /// `act.sub`: who is impersonating the user, when someone is.
        public var actor: String?
        /// What could not be read, each naming its part: that part is left empty, the others stand (an
        /// organization that does not read never hides the actor, plans or features).
        public var problems: [OrganizationClaimsError] = []

        /// An empty set of claims.
        public init() {}
    }

    /// Why a part of the claims could not be read. Every value is untrusted (the signature says Clerk issued
    /// the token, not that this parser agrees with it), so garbage is left out, never guessed at.
    public struct OrganizationClaimsError: Error, Equatable, Sendable {
        /// The part a problem concerns, which is what is left out.
        public enum Part: String, Sendable {
            /// `o` (v2) or `org_*` (v1), with `fea` for v2's permissions: id, role, slug, permissions.
            case organization
            /// `pla`.
            case plans
            /// `fea`, as the features claimed.
            case features
            /// `act`: someone impersonates the user, but who cannot be read.
            case actor
        }

        /// What is left out.
        public let part: Part
        /// A stable code for logs: `o_not_object`, `fea_without_scope`, `fpm_not_a_number`, ...
        public let detail: String

        /// A problem with `part`.
        public init(_ part: Part, _ detail: String) {
            self.part = part
            self.detail = detail
        }

        /// The refusal reason, where the caller refuses on it.
        public var reason: String {
            switch part {
            case .organization: "org_claims_invalid"
            case .plans: "plan_claim_invalid"
            case .features: "features_claim_invalid"
            case .actor: "actor_claim_invalid"
            }
        }
    }

    /// Reads the organization, plans, features and actor of a verified payload, each on its own.
    public static func organization(payload: [UInt8]) -> Organization {
        var out = Organization()
        guard let claims = try? JSONValue.parse(payload) else {
            // Nothing reads, not even whether someone impersonates the user.
            out.problems = [OrganizationClaimsError(.actor, "payload_not_json")]
            return out
        }
        func string(_ value: JSONValue?, _ part: OrganizationClaimsError.Part, _ name: String) -> String? {
            switch value {
            case nil, .null?: return nil
            case .string(let s)?: return s
            default:
                out.problems.append(OrganizationClaimsError(part, name + "_not_string"))
                return nil
            }
        }
        out.plans = string(claims["pla"], .plans, "pla")
        out.features = string(claims["fea"], .features, "fea")
        switch claims["act"] {
        case nil, .null?: break
        case .object?:
            // An actor named by nothing would read as no impersonation at all.
            if case .string(let sub)? = claims["act"]?["sub"], !sub.isEmpty {
                out.actor = sub
            } else {
                out.problems.append(OrganizationClaimsError(.actor, "act_sub_not_string"))
            }
        default: out.problems.append(OrganizationClaimsError(.actor, "act_not_object"))
        }
        do {
            let active = try activeOrganization(claims)
            out.id = active.id
            out.role = active.role
            out.slug = active.slug
            out.permissions = active.permissions
        } catch {
            out.problems.append(error)
        }
        return out
    }

    /// The organization part of the claims, read whole or not at all.
    struct ActiveOrganization {
        var id: String?
        var role: String?
        var slug: String?
        var permissions: [String] = []
    }

    static func activeOrganization(_ claims: JSONValue) throws(OrganizationClaimsError) -> ActiveOrganization {
        func string(_ value: JSONValue?, _ name: String) throws(OrganizationClaimsError) -> String? {
            switch value {
            case nil, .null?: return nil
            case .string(let s)?: return s
            default: throw OrganizationClaimsError(.organization, name + "_not_string")
            }
        }
        var out = ActiveOrganization()
        if claims["v"]?.doubleValue == 2 {
            switch claims["o"] {
            case nil, .null?: return out
            case .object?: break
            default: throw OrganizationClaimsError(.organization, "o_not_object")
            }
            let o = claims["o"]
            out.id = try string(o?["id"], "o_id")
            out.slug = try string(o?["slg"], "o_slg")
            out.role = try string(o?["rol"], "o_rol").map { $0.hasPrefix("org:") ? $0 : "org:" + $0 }
            out.permissions = try permissions(
                fea: claims["fea"], per: try string(o?["per"], "o_per"),
                fpm: try string(o?["fpm"], "o_fpm"))
        } else {
            out.id = try string(claims["org_id"], "org_id")
            out.slug = try string(claims["org_slug"], "org_slug")
            out.role = try string(claims["org_role"], "org_role")
            switch claims["org_permissions"] {
            case nil, .null?: break
            case .array(let list)?:
                guard list.count <= maxPermissions else { throw OrganizationClaimsError(.organization, "org_permissions_too_many") }
                for item in list {
                    guard case .string(let p) = item else { throw OrganizationClaimsError(.organization, "org_permissions_not_strings") }
                    out.permissions.append(p)
                }
            default: throw OrganizationClaimsError(.organization, "org_permissions_not_array")
            }
        }
        // A role or permissions without an organization would be a grant with no scope.
        if out.id == nil && (out.role != nil || !out.permissions.isEmpty) {
            throw OrganizationClaimsError(.organization, "org_claims_without_org_id")
        }
        return out
    }
}
