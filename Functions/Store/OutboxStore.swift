/// A message waiting in the outbox.
public struct OutboxMessage: Sendable {
    /// Its position: messages go out in this order.
    public var id: Int64
    /// `api-key-mappings` or `user-events`.
    public var queue: String
    /// The JSON body.
    public var payload: String
}

/// What one relay batch did.
public struct OutboxBatchResult: Sendable, Equatable {
    /// Messages marked published (the broker confirmed them).
    public var published: Int
    /// The broker error that stopped the batch, if any.
    public var error: String?
    /// Another relay holds the outbox: this one sent nothing and should leave the rows to it.
    public var busy: Bool
    /// The id of a row a broker refused for good, now set aside (kept, no longer pending), if any; `error`
    /// then says why.
    public var setAside: Int64? = nil
}

/// What a relay's `send` reports for one batch.
public struct OutboxSendResult: Sendable {
    /// How many leading messages every broker confirmed.
    public var confirmed: Int
    /// Why it stopped short, if it did.
    public var error: String?
    /// The message right after the confirmed ones was refused for good (too large, an invalid record): the
    /// relay sets its row aside instead of retrying it forever in front of every later row.
    public var refusedForGood: Bool
    /// Why no message could be taken (a closed set: `authorization`, `topic`, `unavailable`…), when the send
    /// stopped short for an outage rather than for one message; every row then stays pending.
    public var outage: String?
    /// The result.
    public init(confirmed: Int, error: String?, refusedForGood: Bool = false, outage: String? = nil) {
        self.confirmed = confirmed
        self.error = error
        self.refusedForGood = refusedForGood
        self.outage = outage
    }
}

/// The transactional outbox: handlers write messages in the same transaction as the change they
/// describe; a relay publishes them and marks them published only after the broker confirmed.
///
/// One relay at a time: each batch runs under a transaction-scoped advisory lock. Rows of one key (an API
/// key's `set`, then its `delete`) must reach the broker in the order they were written, and two relays
/// splitting the pending rows between them cannot promise that: a relay stalled on a batch holding the
/// `set` would let another publish the later `delete` first, leaving a revoked key mapped at the gateway.
public struct OutboxStore {
    let connection: PostgresConnection

    /// `pg_try_advisory_xact_lock` key of the relay ("clerkout" in ASCII), which `requeue` takes too; the
    /// migrations use another.
    static let relayLockKey: Int64 = 0x636C_6572_6B6F_7574

    /// Uses `connection`.
    public init(connection: PostgresConnection) { self.connection = connection }

    /// How many messages wait.
    public func pendingCount() throws(PostgresError) -> Int {
        guard let row = try connection.query("SELECT count(*) AS n FROM outbox WHERE published_at IS NULL AND set_aside_at IS NULL").first else {
            throw .query(sqlState: "XX000", message: "count returned no row")
        }
        return try row.decode("n")
    }

    /// Takes the relay lock (or answers `busy` at once when another relay has it), reads up to `limit`
    /// pending messages oldest first, hands them to `send`, and marks published the first `n` that `send`
    /// reports confirmed, all in one transaction: the lock is released when the batch's outcome is stored.
    @discardableResult
    public func relay(limit: Int, send: ([OutboxMessage]) throws -> OutboxSendResult) throws -> OutboxBatchResult {
        try connection.transaction { c in
            guard try c.query("SELECT pg_try_advisory_xact_lock($1) AS got", [Self.relayLockKey]).first?.decode("got", as: Bool.self) == true
            else { return OutboxBatchResult(published: 0, error: nil, busy: true) }
            let rows = try c.query("""
                SELECT id, queue, payload::text AS payload FROM outbox
                 WHERE published_at IS NULL AND set_aside_at IS NULL ORDER BY id LIMIT $1
                """, [limit])
            let batch = try rows.map { OutboxMessage(id: try $0.decode("id"), queue: try $0.decode("queue"), payload: try $0.decode("payload")) }
            guard !batch.isEmpty else { return OutboxBatchResult(published: 0, error: nil, busy: false) }
            let sent = try send(batch)
            let (confirmed, error) = (min(max(sent.confirmed, 0), batch.count), sent.error)
            if confirmed > 0 {
                try c.query("UPDATE outbox SET published_at = now(), attempts = attempts + 1 WHERE id = ANY($1::bigint[])",
                            [Self.arrayLiteral(batch.prefix(confirmed).map(\.id))])
            }
            if confirmed < batch.count, sent.refusedForGood {
                let row = batch[confirmed].id
                try c.query("UPDATE outbox SET set_aside_at = now(), attempts = attempts + 1, last_error = $2 WHERE id = $1",
                            [row, String((error ?? "refused").prefix(500))])
                return OutboxBatchResult(published: confirmed, error: error, busy: false, setAside: row)
            }
            if confirmed < batch.count, let error {
                try c.query("UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = ANY($1::bigint[])",
                            [Self.arrayLiteral(batch.dropFirst(confirmed).map(\.id)), String(error.prefix(500))])
            }
            return OutboxBatchResult(published: confirmed, error: error, busy: false)
        }
    }

    /// How many rows were set aside (refused for good by a broker; `requeue` puts them back).
    public func setAsideCount() throws(PostgresError) -> Int {
        guard let row = try connection.query("SELECT count(*) AS n FROM outbox WHERE set_aside_at IS NOT NULL").first else { return 0 }
        return try row.decode("n")
    }

    static func arrayLiteral(_ ids: [Int64]) -> String { "{" + ids.map(String.init).joined(separator: ",") + "}" }
}
