/// Where a backfill stands inside one organization's memberships: an organization with more members than
/// one invocation can list is applied page by page, and the next invocation resumes here, inside it.
public struct BackfillMembershipsPosition: Sendable, Hashable {
    /// The organization whose memberships are being applied (its own row went with the first page).
    public var clerkOrgId: String
    /// Where its memberships list stands.
    public var cursor: BackfillCursor

    /// The memberships of `clerkOrgId`, applied up to `cursor`.
    public init(clerkOrgId: String, cursor: BackfillCursor) {
        self.clerkOrgId = clerkOrgId
        self.cursor = cursor
    }
}
