import Store

/// What `me` reads: a user by internal id or by Clerk id and environment, and the user's live memberships
/// (`UserStore` and `OrganizationStore` in PostgreSQL; an in-memory one in the unit tier).
protocol ProfileReader: Sendable {
    /// The user with internal id `id`, tombstones included.
    func user(id: PostgresUUID) throws(PostgresError) -> StoredUser?
    /// The user with this Clerk id in this environment, tombstones included.
    func user(clerkUserId: String, environment: String) throws(PostgresError) -> StoredUser?
    /// Live memberships in live organizations.
    func memberships(userId: PostgresUUID) throws(PostgresError) -> [StoredMembership]
    /// The user's current Clerk Billing plan (an active, past-due or canceled-but-running item), nil without one.
    func currentPlan(userId: PostgresUUID) throws(PostgresError) -> CurrentPlan?
}

/// A user's current Clerk Billing plan, as `me` shows it.
struct CurrentPlan: Sendable, Equatable, Encodable {
    /// The plan's slug (the user's `tier`).
    var slug: String
    /// The item's status: `active`, `past_due` or `canceled` (runs to its period end).
    var status: String
    /// When the period ends, epoch ms.
    var periodEnd: Int64?
}

/// The profiles in PostgreSQL, over the function's one connection.
struct PostgresProfileReader: ProfileReader {
    let database: DatabaseSession

    func user(id: PostgresUUID) throws(PostgresError) -> StoredUser? {
        try UserStore(connection: database.connection).find(id: id)
    }

    func user(clerkUserId: String, environment: String) throws(PostgresError) -> StoredUser? {
        try UserStore(connection: database.connection).find(clerkUserId: clerkUserId, environment: environment)
    }

    func memberships(userId: PostgresUUID) throws(PostgresError) -> [StoredMembership] {
        try OrganizationStore(connection: database.connection).memberships(userId: userId)
    }

    func currentPlan(userId: PostgresUUID) throws(PostgresError) -> CurrentPlan? {
        try BillingStore(connection: database.connection).currentPlan(userId: userId)
            .map { CurrentPlan(slug: $0.slug, status: $0.status, periodEnd: $0.periodEndMs) }
    }
}
