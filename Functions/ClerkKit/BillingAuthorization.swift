/// Clerk's `has({ plan })` and `has({ feature })` on a session token's `pla` and `fea` claims, as the JavaScript
/// SDK's `authorization.ts` checks them (its newer, fail-closed reading): a claim is a comma-separated list of
/// `scope:slug` (`u` user, `o` organization, `ou`/`uo` both; other scopes ignored), and an element without a
/// colon makes the claim unreadable. A required name `pro` matches either scope; `org:pro` (`o:`,
/// `organization:`) only the organization's, `user:pro` (`u:`) only the user's.
public enum BillingAuthorization {
    /// A required plan or feature, as configured (`pro`, `org:pro`, `user:premium`).
    public struct Requirement: Sendable, Equatable {
        /// The scope the requirement names, nil for either.
        public enum Scope: Sendable, Equatable { case user, organization }
        public let scope: Scope?
        public let slug: String

        /// Reads `text`; nil when its scope is not one Clerk knows (Clerk's SDK throws there).
        public init?(_ text: String) {
            let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard let first = parts.first, !first.isEmpty else { return nil }
            guard parts.count == 2 else {
                scope = nil
                slug = first
                return
            }
            switch first {
            case "o", "org", "organization": scope = .organization
            case "u", "user": scope = .user
            default: return nil
            }
            guard !parts[1].isEmpty else { return nil }
            slug = parts[1]
        }
    }

    /// Whether `claim` (`pla` or `fea`, nil when absent) grants `requirement`; an absent, empty or unreadable
    /// claim grants nothing.
    public static func grants(_ claim: String?, _ requirement: Requirement) -> Bool {
        guard let claim, !claim.isEmpty, let (organization, user) = splitByScope(claim) else { return false }
        switch requirement.scope {
        case .organization: return organization.contains(requirement.slug)
        case .user: return user.contains(requirement.slug)
        case nil: return organization.contains(requirement.slug) || user.contains(requirement.slug)
        }
    }

    /// The organization's and the user's slugs of `claim`; nil when an element has no colon.
    static func splitByScope(_ claim: String) -> (organization: Set<String>, user: Set<String>)? {
        var organization = Set<String>()
        var user = Set<String>()
        for element in claim.split(separator: ",", omittingEmptySubsequences: false) {
            let trimmed = element.trimmingWhitespace()
            guard let colon = trimmed.firstIndex(of: ":") else { return nil }
            let scope = trimmed[..<colon]
            let slug = String(trimmed[trimmed.index(after: colon)...])
            switch scope {
            case "o": organization.insert(slug)
            case "u": user.insert(slug)
            case "ou", "uo":
                organization.insert(slug)
                user.insert(slug)
            default: continue
            }
        }
        return (organization, user)
    }
}
