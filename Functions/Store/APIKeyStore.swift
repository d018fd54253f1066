/// API keys, stored only as SHA-256 hex digests, and the gateway mapping messages that follow them.
public struct APIKeyStore {
    private let connection: PostgresConnection

    /// Uses `connection`.
    public init(connection: PostgresConnection) { self.connection = connection }

    /// What `claimPendingKey` found.
    public enum Claim: Sendable, Equatable {
        /// The new key is recorded as pending, leased to the caller.
        case claimed
        /// The user already has a usable key; nothing was recorded.
        case alreadyActive
        /// The user is deleted; nothing was recorded.
        case userDeleted
        /// Another delivery holds a live lease on the user's pending key (its profile call is in flight).
        case leased
    }

    /// Whether the user already has a usable key.
    public func hasActiveKey(userId: PostgresUUID) throws(PostgresError) -> Bool {
        try connection.query("SELECT 1 FROM api_keys WHERE user_id = $1 AND status = 'active'", [userId]).count > 0
    }

    /// Records a new pending key for the user and its gateway mapping, leased to the caller for `leaseMs`,
    /// revoking (and unmapping) any key left pending by an earlier attempt whose lease is over: one
    /// transaction, the user row locked, so overlapping deliveries (other processes included) take turns.
    /// A pending key whose lease is still live belongs to a delivery in flight: nothing changes (`leased`).
    public func claimPendingKey(userId: PostgresUUID, clerkUserId: String, keyHash: String, leaseMs: Int) throws -> Claim {
        try connection.transaction { c in
            guard let row = try c.query("SELECT deleted_at IS NOT NULL AS deleted FROM users WHERE id = $1 FOR UPDATE", [userId]).first
            else { return .userDeleted }
            if try row.decode("deleted", as: Bool.self) { return .userDeleted }
            if try c.query("SELECT 1 FROM api_keys WHERE user_id = $1 AND status = 'active'", [userId]).count > 0 { return .alreadyActive }
            if try c.query(
                """
                SELECT 1 FROM api_keys WHERE user_id = $1 AND status = 'pending' AND lease_until > clock_timestamp()
                """, [userId]
            ).count > 0 {
                return .leased
            }
            try c.query(
                """
                WITH revoked AS (
                    UPDATE api_keys SET status = 'revoked', revoked_at = now(), lease_until = NULL
                     WHERE user_id = $1 AND status = 'pending' RETURNING key_hash, created_at)
                INSERT INTO outbox (queue, payload)
                SELECT 'api-key-mappings', jsonb_build_object('op', 'delete', 'key', 'api_key:' || key_hash)
                  FROM revoked ORDER BY created_at
                """, [userId])
            try c.query(
                """
                INSERT INTO api_keys (user_id, key_hash, lease_until)
                VALUES ($1, $2, clock_timestamp() + $3 * interval '1 millisecond')
                """, [userId, keyHash, max(leaseMs, 0)])
            try c.query(
                """
                INSERT INTO outbox (queue, payload)
                VALUES ('api-key-mappings', jsonb_build_object('op', 'set', 'key', 'api_key:' || $1::text, 'value', $2::text))
                """, [keyHash, clerkUserId])
            return .claimed
        }
    }

    /// Makes a pending key usable (the profile service has it) and ends its lease. False when it is no
    /// longer pending (revoked meanwhile) or the user has another active key.
    public func activate(keyHash: String) throws(PostgresError) -> Bool {
        do {
            return try connection.query(
                """
                UPDATE api_keys k SET status = 'active', activated_at = now(), lease_until = NULL
                 WHERE k.key_hash = $1 AND k.status = 'pending'
                   AND NOT EXISTS (SELECT 1 FROM api_keys a WHERE a.user_id = k.user_id AND a.status = 'active')
                """, [keyHash]
            ).affected == 1
        } catch .query(let state, _) where state == "23505" {
            return false  // another key became active between the check and the update (api_keys_one_active_idx)
        }
    }

    /// Ends a pending key's lease early (the profile service answered, so it is not still storing the key):
    /// the next delivery may replace it at once.
    public func releaseLease(keyHash: String) throws(PostgresError) {
        try connection.query("UPDATE api_keys SET lease_until = NULL WHERE key_hash = $1 AND status = 'pending'", [keyHash])
    }

    /// Revokes a key and records the mapping's removal, in one statement.
    public func revoke(keyHash: String) throws(PostgresError) {
        try connection.query(
            """
            WITH revoked AS (
                UPDATE api_keys SET status = 'revoked', revoked_at = now(), lease_until = NULL
                 WHERE key_hash = $1 AND status <> 'revoked' RETURNING key_hash)
            INSERT INTO outbox (queue, payload)
            SELECT 'api-key-mappings', jsonb_build_object('op', 'delete', 'key', 'api_key:' || key_hash) FROM revoked
            """, [keyHash])
    }
}
