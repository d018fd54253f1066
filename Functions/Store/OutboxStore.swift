/// A message waiting in the outbox.
public struct OutboxMessage: Sendable {
    /// Its position: messages go out in this order.
    public var id: Int64
    /// `api-key-mappings` or `user-events`.
    public var queue: String
    /// The JSON body.
    public var payload: String

    /// A message (the store reads them; an in-memory outbox in unit tests makes them).
    public init(id: Int64, queue: String, payload: String) {
        self.id = id
        self.queue = queue
        self.payload = payload
    }
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
    /// Rows set aside because a later row of their key reached a broker first (`OutboxSendResult.overtaken`).
    public var overtaken: [Int64] = []

    /// The result (the store records them; an in-memory outbox in unit tests makes them).
    public init(published: Int, error: String?, busy: Bool, setAside: Int64? = nil, overtaken: [Int64] = []) {
        self.published = published
        self.error = error
        self.busy = busy
        self.setAside = setAside
        self.overtaken = overtaken
    }
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
    /// Messages (indexes into the batch, anywhere in it) not delivered because a later message of their key reached
    /// the broker first: sent now they would land after it, so their rows are set aside, never published nor left
    /// pending (`outbox requeue` sends them again behind that later row). Among the first `confirmed`, the others
    /// were delivered.
    public var overtaken: [Int]
    /// The result.
    public init(confirmed: Int, error: String?, refusedForGood: Bool = false, outage: String? = nil, overtaken: [Int] = []) {
        self.confirmed = confirmed
        self.error = error
        self.refusedForGood = refusedForGood
        self.outage = outage
        self.overtaken = overtaken
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
    /// reports confirmed (setting aside those it reports overtaken), all in one transaction: the lock is released
    /// when the batch's outcome is stored.
    @discardableResult
    public func relay(limit: Int, send: ([OutboxMessage]) throws -> OutboxSendResult) throws -> OutboxBatchResult {
        try connection.transaction { c in
            guard try c.query("SELECT pg_try_advisory_xact_lock($1) AS got", [Self.relayLockKey]).first?.decode("got", as: Bool.self) == true
            else { return OutboxBatchResult(published: 0, error: nil, busy: true) }
            let rows = try c.query(
                """
                SELECT id, queue, payload::text AS payload FROM outbox
                 WHERE published_at IS NULL AND set_aside_at IS NULL ORDER BY id LIMIT $1
                """, [limit])
            let batch = try rows.map { OutboxMessage(id: try $0.decode("id"), queue: try $0.decode("queue"), payload: try $0.decode("payload")) }
            guard !batch.isEmpty else { return OutboxBatchResult(published: 0, error: nil, busy: false) }
            return try Self.record(try send(batch), of: batch, c)
        }
    }

    /// Stores what `send` did with `batch`: the confirmed rows published, the overtaken ones and the one refused
    /// for good set aside, and the error on the rows left pending.
    private static func record(_ sent: OutboxSendResult, of batch: [OutboxMessage], _ c: PostgresConnection) throws -> OutboxBatchResult {
        let (confirmed, error) = (min(max(sent.confirmed, 0), batch.count), sent.error)
        let refused = confirmed < batch.count && sent.refusedForGood ? confirmed : nil
        let overtaken = Set(sent.overtaken.filter { batch.indices.contains($0) && $0 != refused })
        let ids = { (indices: [Int]) in indices.filter { !overtaken.contains($0) }.map { batch[$0].id } }
        let published = ids(Array(batch.indices.prefix(confirmed)))
        if !published.isEmpty {
            try c.query(
                "UPDATE outbox SET published_at = now(), attempts = attempts + 1 WHERE id = ANY($1::bigint[])",
                [arrayLiteral(published)])
        }
        var result = OutboxBatchResult(
            published: published.count, error: error, busy: false,
            overtaken: overtaken.sorted().map { batch[$0].id })
        if !result.overtaken.isEmpty {
            try c.query(
                "UPDATE outbox SET set_aside_at = now(), attempts = attempts + 1, last_error = $2 WHERE id = ANY($1::bigint[])",
                [arrayLiteral(result.overtaken), overtakenReason])
        }
        if let refused {
            result.setAside = batch[refused].id
            try c.query(
                "UPDATE outbox SET set_aside_at = now(), attempts = attempts + 1, last_error = $2 WHERE id = $1",
                [batch[refused].id, String((error ?? "refused").prefix(500))])
        } else if confirmed < batch.count, let error {
            try c.query(
                "UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = ANY($1::bigint[])",
                [arrayLiteral(ids(Array(batch.indices.dropFirst(confirmed)))), String(error.prefix(500))])
        }
        return result
    }

    /// How many rows were set aside (refused for good by a broker; `requeue` puts them back).
    public func setAsideCount() throws(PostgresError) -> Int {
        guard let row = try connection.query("SELECT count(*) AS n FROM outbox WHERE set_aside_at IS NOT NULL").first else { return 0 }
        return try row.decode("n")
    }

    /// `last_error` of a row set aside because a later row of its key reached a broker first.
    static let overtakenReason =
        "a later row of its key reached the broker first (its record batch was refused); "
        + "sent now it would land after that row: `clerk-functions outbox requeue` sends it again behind it"

    static func arrayLiteral(_ ids: [Int64]) -> String { "{" + ids.map(String.init).joined(separator: ",") + "}" }
}
