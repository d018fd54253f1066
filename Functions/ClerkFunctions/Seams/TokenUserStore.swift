import Store

/// The users' rows as `verifyToken` resolves a verified subject to its internal id (`UserStore` in PostgreSQL;
/// an in-memory one in the unit tier).
protocol TokenUserStore: Sendable {
    /// Whether a row (tombstones included) exists for this Clerk id in this environment.
    func exists(clerkUserId: String, environment: String) throws(PostgresError) -> Bool
    /// Applies a user change through the webhooks' own sync function (`clerk_apply_user_event`).
    func apply(_ change: UserChange) throws(PostgresError) -> SyncResult
    /// The internal id, creating a minimal row when there is none; concurrent first calls create one row.
    func findOrCreate(clerkUserId: String, environment: String) throws(PostgresError) -> (id: PostgresUUID, deleted: Bool, created: Bool)
}

/// The users in PostgreSQL, over the function's one connection.
struct PostgresTokenUsers: TokenUserStore {
    let database: DatabaseSession
    private var store: UserStore { UserStore(connection: database.connection) }

    func exists(clerkUserId: String, environment: String) throws(PostgresError) -> Bool {
        try store.find(clerkUserId: clerkUserId, environment: environment) != nil
    }

    func apply(_ change: UserChange) throws(PostgresError) -> SyncResult { try store.apply(change) }

    func findOrCreate(clerkUserId: String, environment: String) throws(PostgresError) -> (id: PostgresUUID, deleted: Bool, created: Bool) {
        try store.findOrCreate(clerkUserId: clerkUserId, environment: environment)
    }
}
