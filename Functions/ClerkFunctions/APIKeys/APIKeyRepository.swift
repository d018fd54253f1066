import Store

/// The API keys' rows, as the issuer uses them (`APIKeyStore` in PostgreSQL; an in-memory one in unit tests).
protocol APIKeyRepository: Sendable {
    /// Whether the user has an active key.
    func hasActiveKey(userId: PostgresUUID) throws(PostgresError) -> Bool
    /// Claims the user's pending key for this delivery (row lock, lease), or says why not.
    func claimPendingKey(userId: PostgresUUID, clerkUserId: String, keyHash: String, leaseMs: Int) throws -> APIKeyStore.Claim
    /// Makes the pending key active; false when it was revoked or replaced meanwhile.
    func activate(keyHash: String) throws(PostgresError) -> Bool
    /// Ends the key's lease at once.
    func releaseLease(keyHash: String) throws(PostgresError)
    /// Revokes the key (and publishes its removal).
    func revoke(keyHash: String) throws(PostgresError)
}

/// The API keys in PostgreSQL, over the function's one connection.
struct PostgresAPIKeys: APIKeyRepository {
    let database: DatabaseSession
    private var store: APIKeyStore { APIKeyStore(connection: database.connection) }

    func hasActiveKey(userId: PostgresUUID) throws(PostgresError) -> Bool { try store.hasActiveKey(userId: userId) }

    func claimPendingKey(userId: PostgresUUID, clerkUserId: String, keyHash: String, leaseMs: Int) throws -> APIKeyStore.Claim {
        try store.claimPendingKey(userId: userId, clerkUserId: clerkUserId, keyHash: keyHash, leaseMs: leaseMs)
    }

    func activate(keyHash: String) throws(PostgresError) -> Bool { try store.activate(keyHash: keyHash) }
    func releaseLease(keyHash: String) throws(PostgresError) { try store.releaseLease(keyHash: keyHash) }
    func revoke(keyHash: String) throws(PostgresError) { try store.revoke(keyHash: keyHash) }
}
