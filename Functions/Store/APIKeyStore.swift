import FoundationEssentials

/// API keys, stored only as SHA-256 hex digests, and the gateway mapping messages that follow them.
public struct APIKeyStore {
    private let connection: PostgresConnection

    /// Uses `connection`.
    public init(connection: PostgresConnection) { self.connection = connection }

    /// Whether the user already has a usable key.
    public func hasActiveKey(userId: UUID) throws(PostgresError) -> Bool {
        try connection.query("SELECT 1 FROM api_keys WHERE user_id = $1 AND status = 'active'", [userId]).count > 0
    }

    /// Records a new pending key for the user and its gateway mapping, revoking (and unmapping) any key
    /// still pending from an earlier attempt: one transaction, the user row locked. Returns false, doing
    /// nothing, when the user meanwhile has an active key or is deleted.
    public func replacePendingKey(userId: UUID, clerkUserId: String, keyHash: String) throws -> Bool {
        try connection.transaction { c in
            guard let row = try c.query("SELECT deleted_at IS NOT NULL AS deleted FROM users WHERE id = $1 FOR UPDATE", [userId]).first,
                  try !row.decode("deleted", as: Bool.self) else { return false }
            if try c.query("SELECT 1 FROM api_keys WHERE user_id = $1 AND status = 'active'", [userId]).count > 0 { return false }
            try c.query("""
                WITH revoked AS (
                    UPDATE api_keys SET status = 'revoked', revoked_at = now()
                     WHERE user_id = $1 AND status = 'pending' RETURNING key_hash, created_at)
                INSERT INTO outbox (queue, payload)
                SELECT 'api-key-mappings', jsonb_build_object('op', 'delete', 'key', 'api_key:' || key_hash)
                  FROM revoked ORDER BY created_at
                """, [userId])
            try c.query("INSERT INTO api_keys (user_id, key_hash) VALUES ($1, $2)", [userId, keyHash])
            try c.query("""
                INSERT INTO outbox (queue, payload)
                VALUES ('api-key-mappings', jsonb_build_object('op', 'set', 'key', 'api_key:' || $1::text, 'value', $2::text))
                """, [keyHash, clerkUserId])
            return true
        }
    }

    /// Makes a pending key usable (the profile service has it). False when it is no longer pending.
    public func activate(keyHash: String) throws(PostgresError) -> Bool {
        try connection.query("UPDATE api_keys SET status = 'active', activated_at = now() WHERE key_hash = $1 AND status = 'pending'",
                             [keyHash]).affected == 1
    }

    /// Revokes a key and records the mapping's removal, in one statement.
    public func revoke(keyHash: String) throws(PostgresError) {
        try connection.query("""
            WITH revoked AS (
                UPDATE api_keys SET status = 'revoked', revoked_at = now()
                 WHERE key_hash = $1 AND status <> 'revoked' RETURNING key_hash)
            INSERT INTO outbox (queue, payload)
            SELECT 'api-key-mappings', jsonb_build_object('op', 'delete', 'key', 'api_key:' || key_hash) FROM revoked
            """, [keyHash])
    }
}
