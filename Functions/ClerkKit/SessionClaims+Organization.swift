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

        /// An empty set of claims.
        public init() {}
    }

    /// Why organization claims could not be read. Every value is untrusted (the signature says Clerk issued
    /// the token, not that this parser agrees with it), so garbage is refused, never guessed at.
    public struct OrganizationClaimsError: Error, Equatable, Sendable {
        /// A stable code for logs: `o_not_object`, `fea_without_scope`, `fpm_not_a_number`, ...
        public let detail: String
        /// What the caller's answer says.
        public var reason: String { "org_claims_invalid" }
    }

    /// Bounds on what a token may carry: far beyond any real instance, small enough to never matter.
    static let maxPermissions = 64
    static let maxFeatures = 256

    /// Reads the organization claims of a verified payload.
    public static func organization(payload: [UInt8]) throws(OrganizationClaimsError) -> Organization {
        let claims: JSONValue
        do {
            claims = try JSONValue.parse(payload)
        } catch {
            throw OrganizationClaimsError(detail: "payload_not_json")
        }
        func string(_ value: JSONValue?, _ name: String) throws(OrganizationClaimsError) -> String? {
            switch value {
            case nil, .null?: return nil
            case .string(let s)?: return s
            default: throw OrganizationClaimsError(detail: name + "_not_string")
            }
        }
        var out = Organization()
        out.plans = try string(claims["pla"], "pla")
        out.features = try string(claims["fea"], "fea")
        switch claims["act"] {
        case nil, .null?: break
        case .object?: out.actor = try string(claims["act"]?["sub"], "act_sub")
        default: throw OrganizationClaimsError(detail: "act_not_object")
        }
        if claims["v"]?.doubleValue == 2 {
            switch claims["o"] {
            case nil, .null?: return out
            case .object?: break
            default: throw OrganizationClaimsError(detail: "o_not_object")
            }
            let o = claims["o"]
            out.id = try string(o?["id"], "o_id")
            out.slug = try string(o?["slg"], "o_slg")
            out.role = try string(o?["rol"], "o_rol").map { $0.hasPrefix("org:") ? $0 : "org:" + $0 }
            out.permissions = try permissions(features: out.features, per: try string(o?["per"], "o_per"),
                                              fpm: try string(o?["fpm"], "o_fpm"))
        } else {
            out.id = try string(claims["org_id"], "org_id")
            out.slug = try string(claims["org_slug"], "org_slug")
            out.role = try string(claims["org_role"], "org_role")
            switch claims["org_permissions"] {
            case nil, .null?: break
            case .array(let list)?:
                guard list.count <= maxPermissions * maxFeatures else { throw OrganizationClaimsError(detail: "org_permissions_too_many") }
                for item in list {
                    guard case .string(let p) = item else { throw OrganizationClaimsError(detail: "org_permissions_not_strings") }
                    out.permissions.append(p)
                }
            default: throw OrganizationClaimsError(detail: "org_permissions_not_array")
            }
        }
        // A role or permissions without an organization would be a grant with no scope.
        if out.id == nil && (out.role != nil || !out.permissions.isEmpty) {
            throw OrganizationClaimsError(detail: "org_claims_without_org_id")
        }
        return out
    }

    /// "Decode `o.fpm` manually": one decimal per org-scoped feature of `fea`, in order; bit i (LSB first)
    /// grants `per[i]` on that feature. `fea` `o:dashboard,o:teams`, `per` `manage,read`, `fpm` `3,2` give
    /// `org:dashboard:manage`, `org:dashboard:read`, `org:teams:read`.
    static func permissions(features: String?, per: String?, fpm: String?) throws(OrganizationClaimsError) -> [String] {
        // The SDK grants nothing unless all three are present.
        guard let per, let fpm, let features else { return [] }
        let orgFeatures = try orgScopedFeatures(features)
        let names = per.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingWhitespace() }
        guard names.count <= maxPermissions else { throw OrganizationClaimsError(detail: "per_too_many") }
        guard names.allSatisfy({ !$0.isEmpty }) else { throw OrganizationClaimsError(detail: "per_empty_name") }
        let masks = fpm.split(separator: ",", omittingEmptySubsequences: false)
        guard masks.count == orgFeatures.count else { throw OrganizationClaimsError(detail: "fpm_count_mismatch") }
        var out: [String] = []
        for (feature, text) in zip(orgFeatures, masks) {
            let mask = try bits(text.trimmingWhitespace())
            // A bit past the last permission names nothing (the SDK would print "undefined").
            guard names.count >= 64 || mask >> UInt64(names.count) == 0 else {
                throw OrganizationClaimsError(detail: "fpm_bit_without_permission")
            }
            for (i, name) in names.enumerated() where mask & (1 << UInt64(i)) != 0 {
                out.append("org:\(feature):\(name)")
            }
        }
        return out
    }

    /// The features whose scope includes `o` (`o`, `ou`, `uo`), in order; an element without `scope:` is refused.
    static func orgScopedFeatures(_ fea: String) throws(OrganizationClaimsError) -> [String] {
        var out: [String] = []
        let elements = fea.split(separator: ",", omittingEmptySubsequences: false)
        guard elements.count <= maxFeatures else { throw OrganizationClaimsError(detail: "fea_too_many") }
        for element in elements {
            let parts = element.trimmingWhitespace().split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { throw OrganizationClaimsError(detail: "fea_without_scope") }
            if parts[0].contains("o") { out.append(String(parts[1])) }
        }
        return out
    }

    /// A decimal of at most 64 bits, digits only (no sign, no exponent, no overflow).
    static func bits(_ text: String) throws(OrganizationClaimsError) -> UInt64 {
        guard !text.isEmpty, text.utf8.count <= 20 else { throw OrganizationClaimsError(detail: "fpm_not_a_number") }
        var value: UInt64 = 0
        for c in text.utf8 {
            guard c >= 0x30, c <= 0x39 else { throw OrganizationClaimsError(detail: "fpm_not_a_number") }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = times10.addingReportingOverflow(UInt64(c - 0x30))
            guard !o1, !o2 else { throw OrganizationClaimsError(detail: "fpm_too_large") }
            value = next
        }
        return value
    }
}
