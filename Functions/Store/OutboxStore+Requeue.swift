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
    /// Puts the set-aside rows `filter` chooses back in the outbox, so that each key's consumers end in the key's
    /// last state. A chosen row with no later published row of its key (in its queue) is pending again where it
    /// stands. Otherwise the chosen rows of that key, its later published rows (written again as new rows) and its
    /// later pending rows go to the end of the outbox in their original order: a requeued `set` reaches consumers
    /// before the `delete` that followed it, not after. In `wholeStateQueues`, whose every row carries its key's whole
    /// state (an API key's mapping), only the key's last published row is written again: the rows before it change
    /// nothing a consumer ends with. Elsewhere every later published row is (a user event carries only the fields
    /// that changed; an organization's events are about its several memberships). `partitionKey` gives the SQL
    /// expression of a row's key for a row alias (rows whose key is NULL have no order to keep and go back in place).
    ///
    /// Runs under the relay's lock (waiting for a running batch, up to 2 minutes), so no relay publishes meanwhile
    /// and a second requeue waits and finds the rows already back; and with the table locked against writers (up to
    /// 5 s to get it), so no delivery writes a row of a key between the rows moved to the end. The move is one
    /// statement whatever the number of rows, so writers wait for that statement only.
    public func requeue(
        _ filter: OutboxRequeueFilter, partitionKey: (String) -> String,
        wholeStateQueues: Set<String> = []
    ) throws -> OutboxRequeueResult {
        try connection.transaction { c in
            try c.query("SET LOCAL lock_timeout = '120s'")
            try c.query("SELECT pg_advisory_xact_lock($1)", [Self.relayLockKey])
            try c.query("SET LOCAL lock_timeout = '5s'")
            try c.query("LOCK TABLE outbox IN EXCLUSIVE MODE")
            var (conditions, parameters) = Self.chosenConditions(filter)
            parameters.append(PostgresArray(wholeStateQueues.sorted()))
            let counts = try c.query(
                Self.requeueStatement(
                    conditions: conditions, partitionKey: partitionKey,
                    wholeState: "$\(parameters.count)::text[]"), parameters)
            var result = OutboxRequeueResult()
            for row in counts {
                let (queue, action, n): (String, String, Int) = (try row.decode("queue"), try row.decode("action"), try row.decode("n"))
                switch action {
                case "resend": result.resent[queue, default: 0] += n
                case "move": result.moved[queue, default: 0] += n
                default: result.requeued[queue, default: 0] += n
                }
            }
            return result
        }
    }

    /// The SQL conditions (over alias `o`) and parameters choosing the set-aside rows `filter` names.
    private static func chosenConditions(_ filter: OutboxRequeueFilter) -> ([String], [(any PostgresEncodable)?]) {
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
        return (conditions, parameters)
    }

    /// One statement that plans and applies the requeue, answering `(queue, action, n)` rows (PostgreSQL runs each
    /// data-modifying `WITH` part once, to completion, whether or not the final `SELECT` reads it).
    ///
    /// `plan` holds each row it touches with its action: `in_place` (a chosen row pending again where it stands),
    /// `requeue` (a chosen row moved to the end), `move` (a later pending row moved), `resend` (a later published row
    /// written again). A set-aside row the filter did not choose stays where it is. The rows going to the end are
    /// numbered in id order (`rank`) and take the ids after the sequence's next one, reserved at once with `setval`:
    /// their order never depends on the order in which an UPDATE or INSERT visits rows, and no join matches two
    /// unindexed row sets (whose estimates PostgreSQL cannot know). Every reserved id is above every existing one,
    /// and no other session takes one meanwhile: only inserts into `outbox` draw on the sequence, and the table is
    /// locked against them.
    private static func requeueStatement(conditions: [String], partitionKey: (String) -> String, wholeState: String) -> String {
        """
        WITH chosen AS (
          SELECT o.id, o.queue, \(partitionKey("o")) AS key FROM outbox o WHERE \(conditions.joined(separator: " AND "))
        ), firsts AS (
          SELECT queue, key, min(id) AS first FROM chosen WHERE key IS NOT NULL GROUP BY queue, key
        ), considered AS (
          SELECT o.id, o.queue, f.key,
                 CASE WHEN o.id IN (SELECT id FROM chosen) THEN 'chosen' WHEN o.published_at IS NOT NULL THEN 'published'
                      WHEN o.set_aside_at IS NULL THEN 'pending' ELSE 'aside' END AS kind
            FROM outbox o JOIN firsts f ON o.queue = f.queue AND \(partitionKey("o")) = f.key AND o.id >= f.first
        ), keyed AS (
          SELECT c.*, max(id) FILTER (WHERE kind = 'published') OVER (PARTITION BY queue, key) AS last_published
            FROM considered c
        ), plan AS (
          SELECT id, queue, 'in_place' AS action FROM chosen WHERE key IS NULL
          UNION ALL
          SELECT id, queue, CASE
                   WHEN kind = 'chosen' THEN CASE WHEN last_published IS NULL THEN 'in_place' ELSE 'requeue' END
                   WHEN last_published IS NULL OR kind = 'aside' THEN NULL
                   WHEN kind = 'pending' THEN 'move'
                   WHEN id = last_published OR queue <> ALL(\(wholeState)) THEN 'resend'
                 END AS action
            FROM keyed
        ), tail AS (
          SELECT id, action, row_number() OVER (ORDER BY id) AS rank FROM plan WHERE action IN ('requeue', 'move', 'resend')
        ), fresh AS MATERIALIZED (
          SELECT CASE WHEN n > 0 THEN setval(pg_get_serial_sequence('outbox', 'id'),
                                             nextval(pg_get_serial_sequence('outbox', 'id')) + n - 1) - n END AS base
            FROM (SELECT count(*) AS n FROM tail) counted
        ), moved AS (
          UPDATE outbox o SET id = t.rank + (SELECT base FROM fresh), set_aside_at = NULL
            FROM tail t WHERE o.id = t.id AND t.action IN ('requeue', 'move')
        ), resent AS (
          INSERT INTO outbox (id, queue, payload)
          SELECT t.rank + (SELECT base FROM fresh), o.queue, o.payload FROM tail t JOIN outbox o ON o.id = t.id
           WHERE t.action = 'resend'
        ), in_place AS (
          UPDATE outbox o SET set_aside_at = NULL FROM plan p WHERE o.id = p.id AND p.action = 'in_place'
        )
        SELECT queue, action, count(*)::int AS n FROM plan WHERE action IS NOT NULL GROUP BY queue, action
        """
    }
}
