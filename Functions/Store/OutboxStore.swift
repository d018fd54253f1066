/// A message waiting in the outbox.
public struct OutboxMessage: Sendable {
    /// Its position: messages go out in this order.
    public var id: Int64
    /// `api-key-mappings` or `user-events`.
    public var queue: String
    /// The JSON body.
    public var payload: String
}

/// The transactional outbox: handlers write messages in the same transaction as the change they
/// describe; a relay publishes them and marks them published only after the broker confirmed.
public struct OutboxStore {
    private let connection: PostgresConnection

    /// Uses `connection`.
    public init(connection: PostgresConnection) { self.connection = connection }

    /// How many messages wait.
    public func pendingCount() throws(PostgresError) -> Int {
        try connection.query("SELECT count(*) AS n FROM outbox WHERE published_at IS NULL").first!.decode("n")
    }

    /// Locks up to `limit` pending messages (oldest first) for the length of a transaction, skipping rows
    /// another relay holds, hands them to `send`, and marks published the first `n` that `send` reports
    /// confirmed. Concurrent relays never send the same row twice.
    @discardableResult
    public func relay(limit: Int, send: ([OutboxMessage]) throws -> (confirmed: Int, error: String?)) throws -> (published: Int, error: String?) {
        try connection.transaction { c in
            let rows = try c.query("""
                SELECT id, queue, payload::text AS payload FROM outbox
                 WHERE published_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED
                """, [limit])
            let batch = try rows.map { OutboxMessage(id: try $0.decode("id"), queue: try $0.decode("queue"), payload: try $0.decode("payload")) }
            guard !batch.isEmpty else { return (0, nil) }
            let (confirmed, error) = try send(batch)
            if confirmed > 0 {
                try c.query("UPDATE outbox SET published_at = now(), attempts = attempts + 1 WHERE id = ANY($1::bigint[])",
                            [Self.arrayLiteral(batch.prefix(confirmed).map(\.id))])
            }
            if confirmed < batch.count, let error {
                try c.query("UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = ANY($1::bigint[])",
                            [Self.arrayLiteral(batch.dropFirst(confirmed).map(\.id)), String(error.prefix(500))])
            }
            return (confirmed, error)
        }
    }

    static func arrayLiteral(_ ids: [Int64]) -> String { "{" + ids.map(String.init).joined(separator: ",") + "}" }
}
