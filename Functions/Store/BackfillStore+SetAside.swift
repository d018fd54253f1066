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

    /// Keeps `skips` in `queue_rejects`, once (the same item refused again, by a second run or by two runs at
    /// once, adds nothing), and marks their ids seen (Clerk lists them: they are not missing in Clerk), in the
    /// caller's transaction. `message_id` is `<environment>/<kind>[/<id>]`.
    func keep(_ skips: [BackfillSkip], run: BackfillRun, environment: String) throws(PostgresError) {
        guard !skips.isEmpty else { return }
        try connection.query("""
            WITH s AS (
                SELECT * FROM unnest($3::text[], $4::text[], $5::text[], $6::text[]) AS t(kind, clerk_id, reason, body)
            ), seen AS (
                INSERT INTO backfill_seen (run_id, kind, clerk_id)
                SELECT DISTINCT $1::bigint, kind, clerk_id FROM s WHERE clerk_id IS NOT NULL ON CONFLICT DO NOTHING
            )
            INSERT INTO queue_rejects (source, message_id, reason, body)
            SELECT DISTINCT 'backfill', $2 || '/' || kind || coalesce('/' || clerk_id, ''), reason, body FROM s
            ON CONFLICT (source, message_id, reason, md5(body)) DO NOTHING
            """, [run.id, environment, PostgresArray(skips.map { Optional($0.kind.rawValue) }), PostgresArray(skips.map(\.clerkId)),
                  PostgresArray(skips.map { Optional(PostgresText.removingNUL($0.keptReason).text) }),
                  PostgresArray(skips.map { Optional(PostgresText.removingNUL($0.body).text) })])
    }

    /// `outcome` with `refused` (what PostgreSQL refused among `kind`'s items) set aside, and every set-aside
    /// item counted as skipped under its kind.
    static func settle<T>(_ outcome: inout BackfillOutcome, refused: [(item: T, sqlState: String)], kind: BackfillSkip.Kind,
                          describe: (T) -> (id: String, body: String)) {
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
            }
        }
    }
}
