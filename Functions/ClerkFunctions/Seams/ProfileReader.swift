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
}
