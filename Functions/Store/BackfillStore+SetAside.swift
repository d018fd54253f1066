/// Items a backfill sets aside: one that PostgreSQL refuses as data (SQLSTATE class 22) is found within its
/// statement and applied without, and every item set aside is kept in `queue_rejects` for a person to look at.
extension BackfillStore {
    /// Applies `items` through `apply` (one statement per call) within a savepoint. When PostgreSQL refuses
    /// the data (class 22) the slice is rolled back and halved until the items it refuses are found: those
    /// come back with their SQLSTATE, the rest is applied. A page without such an item costs a SAVEPOINT and
    /// a RELEASE; k of them among n items about 2·k·log2(n) statements more. Any other error is thrown (the
    /// caller rolls its transaction back).
    func applyIsolatingDataErrors<T>(_ items: [T], apply: (ArraySlice<T>) throws -> BackfillCounts) throws
        -> (counts: BackfillCounts, refused: [(item: T, sqlState: String)])
    {
        var counts = BackfillCounts()
        var refused: [(item: T, sqlState: String)] = []
        // A stack, not recursion; the first half goes on top, so items keep their order.
        var pending: [ArraySlice<T>] = [items[...]]
        while let slice = pending.popLast() {
            guard !slice.isEmpty else { continue }
            try connection.query("SAVEPOINT backfill_slice")
            do {
                counts.add(try apply(slice))
                try connection.query("RELEASE SAVEPOINT backfill_slice")
            } catch PostgresError.query(let sqlState, _) where sqlState.hasPrefix("22") {
                // Only what the server refused: a column we failed to decode (`.decoding`, also "22…") is our bug.
                try connection.query("ROLLBACK TO SAVEPOINT backfill_slice")
                try connection.query("RELEASE SAVEPOINT backfill_slice")
                if slice.count == 1, let only = slice.first {
                    refused.append((only, sqlState))
                } else {
                    let middle = slice.startIndex + slice.count / 2
                    pending.append(slice[middle...])
                    pending.append(slice[..<middle])
                }
            }
        }
        return (counts, refused)
    }

    /// Keeps `skips` in `queue_rejects` and marks their ids seen (Clerk lists them: they are not missing in
    /// Clerk), in the caller's transaction. `message_id` is `<environment>/<kind>[/<id>]`. An item with an id
    /// is kept once per (environment, kind, id, reason), its latest body replacing the one kept before (Clerk's
    /// copy of an active user changes on every run; one more copy of a person's data per run is not "once").
    /// An item without an id has nothing else to be known by: it is kept once per body.
    func keep(_ skips: [BackfillSkip], run: BackfillRun, environment: String) throws(PostgresError) {
        guard !skips.isEmpty else { return }
        let items: [(any PostgresEncodable)?] = [
            environment, PostgresArray(skips.map { Optional($0.kind.rawValue) }), PostgresArray(skips.map(\.clerkId)),
            PostgresArray(skips.map { Optional(PostgresText.removingNUL($0.keptReason).text) }),
            PostgresArray(skips.map { Optional(PostgresText.removingNUL($0.body).text) })
        ]
        // Two runs keeping the same new item at once: each waits for the other's commit here, sorted (taken
        // last in the transaction, after the organization and user locks). Without it both inserts pass the
        // conflict check unseen, and the second fails on the body-keyed index (not the one ON CONFLICT names).
        try connection.query(
            """
            SELECT count(pg_advisory_xact_lock(1869768553, k.key)) AS n
              FROM (SELECT DISTINCT hashtext(m.message_id || ' ' || m.reason) AS key
                      FROM (\(Self.keptItemsSQL)) m WHERE m.message_id ~ \(Self.keyedItemPattern) ORDER BY 1) k
            """, items)
        try connection.query(
            """
            WITH s AS (\(Self.keptItemsSQL)
            ), seen AS (
                INSERT INTO backfill_seen (run_id, kind, clerk_id)
                SELECT DISTINCT $6::bigint, kind, clerk_id FROM s WHERE clerk_id IS NOT NULL ON CONFLICT DO NOTHING
            ), item AS (
                SELECT DISTINCT ON (message_id, reason) message_id, reason, body FROM s
                 WHERE message_id ~ \(Self.keyedItemPattern) ORDER BY message_id, reason, n DESC
            ), keyed AS (
                INSERT INTO queue_rejects (source, message_id, reason, body)
                SELECT 'backfill', message_id, reason, body FROM item ORDER BY message_id, reason
                ON CONFLICT (message_id, reason) WHERE source = 'backfill' AND message_id ~ \(Self.keyedItemPattern)
                DO UPDATE SET body = excluded.body, received_at = now() WHERE queue_rejects.body IS DISTINCT FROM excluded.body
            )
            INSERT INTO queue_rejects (source, message_id, reason, body)
            SELECT DISTINCT 'backfill', message_id, reason, body FROM s WHERE message_id !~ \(Self.keyedItemPattern)
            ON CONFLICT (source, message_id, reason, md5(body)) DO NOTHING
            """, items + [run.id])
    }

    /// The items of `keep`'s parameters ($1 the environment, $2…$5 the arrays) as rows: `kind`, `clerk_id`,
    /// `reason`, `body`, their order `n` and `message_id`.
    static let keptItemsSQL = """
        SELECT t.*, $1 || '/' || t.kind || coalesce('/' || t.clerk_id, '') AS message_id
          FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS t(kind, clerk_id, reason, body, n)
        """

    /// The `message_id`s kept once per id: the predicate of migration 13's index, word for word (ON CONFLICT
    /// finds a partial index by its predicate; rows routed by the same text never meet the other index).
    static let keyedItemPattern = "'/(user|organization|membership)/[A-Za-z0-9_]+$'"

    /// `outcome` with `refused` (what PostgreSQL refused among `kind`'s items) set aside, and every set-aside
    /// item counted as skipped under its kind.
    static func settle<T>(
        _ outcome: inout BackfillOutcome, refused: [(item: T, sqlState: String)], kind: BackfillSkip.Kind,
        describe: (T) -> (id: String, body: String)
    ) {
        for (item, sqlState) in refused {
            let d = describe(item)
            outcome.setAside.append(BackfillSkip(kind: kind, clerkId: d.id, reason: "data_error", detail: sqlState, body: d.body))
        }
    }

    /// Counts `outcome.setAside` as skipped, by kind.
    static func countSkipped(_ outcome: inout BackfillOutcome) {
        for skip in outcome.setAside {
            switch skip.kind {
            case .user: outcome.users.skipped += 1
            case .organization: outcome.organizations.skipped += 1
            case .membership: outcome.memberships.skipped += 1
            case .billingItem: outcome.billing.skipped += 1
            }
        }
    }
}
