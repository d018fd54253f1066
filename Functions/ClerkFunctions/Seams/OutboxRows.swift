import Store

/// The outbox's pending rows as the relay uses them (`OutboxStore` in PostgreSQL, where one relay at a time holds
/// them under an advisory lock; an in-memory one in the unit tier).
protocol OutboxRows: Sendable {
    /// Takes the relay lock (or answers `busy`), hands up to `limit` pending rows oldest first to `send`, and
    /// records what it reports: the confirmed rows published, the overtaken and the refused-for-good set aside.
    func relay(limit: Int, send: ([OutboxMessage]) throws -> OutboxSendResult) throws -> OutboxBatchResult
    /// How many rows wait.
    func pendingCount() throws(PostgresError) -> Int
}

/// The outbox in PostgreSQL, over a connection: the function's one, which serves one invocation at a time (as
/// `DatabaseSession` keeps it).
struct PostgresOutboxRows: OutboxRows, @unchecked Sendable {
    let connection: PostgresConnection

    func relay(limit: Int, send: ([OutboxMessage]) throws -> OutboxSendResult) throws -> OutboxBatchResult {
        try OutboxStore(connection: connection).relay(limit: limit, send: send)
    }

    func pendingCount() throws(PostgresError) -> Int { try OutboxStore(connection: connection).pendingCount() }
}
