/// What applying one page of users, or one page of an organization's memberships (the organization itself
/// with its first page), came to.
public struct BackfillOutcome: Sendable {
    /// Users, by what happened to each.
    public var users = BackfillCounts()
    /// Organizations, likewise.
    public var organizations = BackfillCounts()
    /// Memberships, likewise.
    public var memberships = BackfillCounts()
    /// Clerk Billing subscription items, likewise.
    public var billing = BackfillCounts()
    /// Every item set aside (Clerk's refused ones and PostgreSQL's), to log: already counted above.
    public var setAside: [BackfillSkip] = []

    /// Nothing yet.
    public init() {}
}
