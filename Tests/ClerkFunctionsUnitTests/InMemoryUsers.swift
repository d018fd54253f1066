import Store

@testable import ClerkFunctions

/// Users and memberships in memory, as `me` reads them and `verifyToken` resolves them: one row per Clerk id and
/// environment, tombstones kept, a failure to inject. Every write is kept for assertions. One test thread at a time.
final class InMemoryUsers: ProfileReader, TokenUserStore, @unchecked Sendable {
    private(set) var users: [StoredUser] = []
    var memberships: [PostgresUUID: [StoredMembership]] = [:]
    /// User changes applied (Clerk's fill of a user the database did not know).
    private(set) var applied: [UserChange] = []
    /// Minimal rows created just in time, by Clerk id.
    private(set) var created: [String] = []
    /// Thrown by every call while set: the database is away.
    var failure: PostgresError?

    private func fail() throws(PostgresError) {
        if let failure { throw failure }
    }

    /// Adds a user row and answers it.
    @discardableResult
    func add(_ clerkUserId: String, environment: String = "production", email: String? = nil, deleted: Bool = false) -> StoredUser {
        let user = StoredUser(
            id: InMemoryEventStore.uuid(users.count + 1), clerkUserId: clerkUserId, environment: environment,
            email: email, firstName: "Ada", tier: "free", createdAtMs: 1_000, updatedAtMs: 2_000, deleted: deleted)
        users.append(user)
        return user
    }

    func user(id: PostgresUUID) throws(PostgresError) -> StoredUser? {
        try fail()
        return users.first { $0.id == id }
    }

    func user(clerkUserId: String, environment: String) throws(PostgresError) -> StoredUser? {
        try fail()
        return users.first { $0.clerkUserId == clerkUserId && $0.environment == environment }
    }

    func memberships(userId: PostgresUUID) throws(PostgresError) -> [StoredMembership] {
        try fail()
        return memberships[userId] ?? []
    }

    /// Current plans by user.
    var plans: [PostgresUUID: CurrentPlan] = [:]

    func currentPlan(userId: PostgresUUID) throws(PostgresError) -> CurrentPlan? {
        try fail()
        return plans[userId]
    }

    func exists(clerkUserId: String, environment: String) throws(PostgresError) -> Bool {
        try user(clerkUserId: clerkUserId, environment: environment) != nil
    }

    func apply(_ change: UserChange) throws(PostgresError) -> SyncResult {
        try fail()
        applied.append(change)
        if let existing = try user(clerkUserId: change.clerkUserId, environment: change.environment) {
            return SyncResult(status: .stale, userId: existing.id)
        }
        return SyncResult(status: .processed, userId: add(change.clerkUserId, environment: change.environment, email: change.user.email).id)
    }

    func findOrCreate(clerkUserId: String, environment: String) throws(PostgresError) -> (id: PostgresUUID, deleted: Bool, created: Bool) {
        if let user = try user(clerkUserId: clerkUserId, environment: environment) { return (user.id, user.deleted, false) }
        created.append(clerkUserId)
        return (add(clerkUserId, environment: environment).id, false, true)
    }
}
