/// Which set-aside rows `OutboxStore.requeue` puts back.
public struct OutboxRequeueFilter: Sendable, Equatable {
    /// From when rows were set aside.
    public enum Since: Sendable, Equatable {
        /// This many seconds before now.
        case secondsAgo(Int64)
        /// An ISO-8601 time with its offset (PostgreSQL reads it as `timestamptz`).
        case time(String)
    }

    /// Only rows of this queue (all queues when nil).
    public var queue: String?
    /// Only rows set aside at or after this (all when nil).
    public var since: Since?

    /// A filter.
    public init(queue: String? = nil, since: Since? = nil) {
        self.queue = queue
        self.since = since
    }
}

/// What `OutboxStore.requeue` did, by queue.
public struct OutboxRequeueResult: Sendable, Equatable {
    /// Set-aside rows pending again.
    public var requeued: [String: Int] = [:]
    /// Published rows written again, as new rows, after a requeued row of their key.
    public var resent: [String: Int] = [:]
    /// Pending rows of those keys moved behind them.
    public var moved: [String: Int] = [:]

    /// An empty result.
    public init() {}
}

extension OutboxStore {
    /// One row `requeue` considers: a chosen set-aside row, or a later row of a chosen row's key.
    private struct Considered {
        enum Kind: String { case chosen, published, pending, aside }
        var id: Int64
        var queue: String
        var key: String?
        var kind: Kind
    }

    /// Puts the set-aside rows `filter` chooses back in the outbox, so that each key's consumers end in the key's
    /// last state. A chosen row with no later published row of its key (in its queue) is pending again where it
    /// stands. Otherwise the chosen rows of that key, its later published rows (written again as new rows) and its
    /// later pending rows go to the end of the outbox in their original order: a requeued `set` reaches consumers
    /// before the `delete` that followed it, not after. `partitionKey` gives the SQL expression of a row's key
    /// for a row alias (rows whose key is NULL have no order to keep and go back in place).
    ///
    /// Runs under the relay's lock (waiting for a running batch, up to 2 minutes), so no relay publishes meanwhile
    /// and a second requeue waits and finds the rows already back; and with the table locked against writers (up to
    /// 5 s to get it), so no delivery writes a row of a key between the rows moved to the end.
    public func requeue(_ filter: OutboxRequeueFilter, partitionKey: (String) -> String) throws -> OutboxRequeueResult {
        try connection.transaction { c in
            try c.query("SET LOCAL lock_timeout = '120s'")
            try c.query("SELECT pg_advisory_xact_lock($1)", [Self.relayLockKey])
            try c.query("SET LOCAL lock_timeout = '5s'")
            try c.query("LOCK TABLE outbox IN EXCLUSIVE MODE")
            let rows = try Self.considered(c, filter, partitionKey)
            var result = OutboxRequeueResult()
            var toTail = Set<String>()
            for row in rows where row.kind == .published { toTail.insert(row.queue + "\u{0}" + (row.key ?? "")) }
            var inPlace: [Int64] = []
            for row in rows {
                guard let key = row.key, toTail.contains(row.queue + "\u{0}" + key) else {
                    if row.kind == .chosen { inPlace.append(row.id); result.requeued[row.queue, default: 0] += 1 }
                    continue
                }
                try Self.moveToTail(c, row, &result)
            }
            if !inPlace.isEmpty {
                try c.query("UPDATE outbox SET set_aside_at = NULL WHERE id = ANY($1::bigint[])", [Self.arrayLiteral(inPlace)])
            }
            return result
        }
    }

    /// The chosen rows and every later row of their keys, in id order.
    private static func considered(_ c: PostgresConnection, _ filter: OutboxRequeueFilter,
                                   _ partitionKey: (String) -> String) throws -> [Considered] {
        var conditions = ["o.set_aside_at IS NOT NULL", "o.published_at IS NULL"]
        var parameters: [(any PostgresEncodable)?] = []
        if let queue = filter.queue {
            parameters.append(queue)
            conditions.append("o.queue = $\(parameters.count)")
        }
        switch filter.since {
        case .secondsAgo(let seconds)?:
            parameters.append(seconds)
            conditions.append("o.set_aside_at >= now() - make_interval(secs => $\(parameters.count)::bigint)")
        case .time(let time)?:
            parameters.append(time)
            conditions.append("o.set_aside_at >= $\(parameters.count)::timestamptz")
        case nil: break
        }
        let rows = try c.query("""
            WITH chosen AS (
              SELECT o.id, o.queue, \(partitionKey("o")) AS key FROM outbox o WHERE \(conditions.joined(separator: " AND "))
            ), firsts AS (
              SELECT queue, key, min(id) AS first FROM chosen WHERE key IS NOT NULL GROUP BY queue, key
            )
            SELECT id, queue, key, 'chosen' AS kind FROM chosen WHERE key IS NULL
            UNION ALL
            SELECT o.id, o.queue, f.key,
                   CASE WHEN o.id IN (SELECT id FROM chosen) THEN 'chosen' WHEN o.published_at IS NOT NULL THEN 'published'
                        WHEN o.set_aside_at IS NULL THEN 'pending' ELSE 'aside' END AS kind
              FROM outbox o JOIN firsts f ON o.queue = f.queue AND \(partitionKey("o")) = f.key AND o.id >= f.first
             ORDER BY id
            """, parameters)
        return try rows.map { row in
            Considered(id: try row.decode("id"), queue: try row.decode("queue"), key: try row.decodeIfPresent("key"),
                       kind: Considered.Kind(rawValue: try row.decode("kind")) ?? .aside)
        }
    }

    /// Gives `row` the next id (a copy, for a published row); a set-aside row the filter did not choose stays.
    private static func moveToTail(_ c: PostgresConnection, _ row: Considered, _ result: inout OutboxRequeueResult) throws {
        let next = "nextval(pg_get_serial_sequence('outbox', 'id'))"
        switch row.kind {
        case .chosen:
            try c.query("UPDATE outbox SET id = \(next), set_aside_at = NULL WHERE id = $1", [row.id])
            result.requeued[row.queue, default: 0] += 1
        case .published:
            try c.query("INSERT INTO outbox (queue, payload) SELECT queue, payload FROM outbox WHERE id = $1", [row.id])
            result.resent[row.queue, default: 0] += 1
        case .pending:
            try c.query("UPDATE outbox SET id = \(next) WHERE id = $1", [row.id])
            result.moved[row.queue, default: 0] += 1
        case .aside:
            break
        }
    }
}
