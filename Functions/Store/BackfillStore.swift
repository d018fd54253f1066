/// What one kind of record came to in a backfill.
public struct BackfillCounts: Sendable, Equatable, Encodable {
    /// New rows.
    public var created = 0
    /// Rows changed to Clerk's newer copy.
    public var updated = 0
    /// Rows already as Clerk has them.
    public var unchanged = 0
    /// Clerk's copy is older than ours, or ours is a tombstone: not applied, as webhooks would not.
    public var stale = 0
    /// Set aside (`BackfillSkip`): not the documented shape, or refused by PostgreSQL as data.
    public var skipped = 0

    /// Zero counts.
    public init() {}

    /// Adds `other`.
    public mutating func add(_ other: BackfillCounts) {
        created += other.created
        updated += other.updated
        unchanged += other.unchanged
        stale += other.stale
        skipped += other.skipped
    }

    /// `{"created":…,"updated":…,"unchanged":…,"stale":…,"skipped":…}`.
    public var json: String {
        #"{"created":\#(created),"updated":\#(updated),"unchanged":\#(unchanged),"stale":\#(stale),"skipped":\#(skipped)}"#
    }

    /// Reads `json`'s form back (the run's saved progress); missing fields are zero.
    public init(json: [String: Int]) {
        created = json["created"] ?? 0
        updated = json["updated"] ?? 0
        unchanged = json["unchanged"] ?? 0
        stale = json["stale"] ?? 0
        skipped = json["skipped"] ?? 0
    }
}

/// A backfill run's saved position: a run killed midway resumes here.
public struct BackfillRun: Sendable {
    /// The run's id.
    public var id: Int64
    /// `users`, `organizations` or `done`.
    public var phase: String
    /// Where the users phase stands.
    public var users: BackfillCursor
    /// Where the organizations phase stands.
    public var organizations: BackfillCursor
    /// Where the memberships of the organization after `organizations` stand, when it was stopped midway.
    public var memberships: BackfillMembershipsPosition?
    /// Counts so far, by kind.
    public var counts: [String: BackfillCounts]
}

/// The SQL of a backfill: users applied a page per statement through the same function webhooks use, so
/// the same rules hold (a newer `clerk_updated_at` wins, tombstones stay, new users get their free
/// subscription, usage row and outbox event), with the run's position saved in the same transaction.
public struct BackfillStore {
    let connection: PostgresConnection

    /// Uses `connection`.
    public init(connection: PostgresConnection) { self.connection = connection }

    /// The open run of `environment`, or a new one.
    public func openRun(environment: String) throws(PostgresError) -> BackfillRun {
        try connection.query(
            """
            INSERT INTO backfill_runs (environment) VALUES ($1)
            ON CONFLICT (environment) WHERE finished_at IS NULL DO NOTHING
            """, [environment])
        guard let run = try load("environment = $1", environment) else {
            throw .query(sqlState: "XX000", message: "no open backfill run")
        }
        return run
    }

    /// `run` as saved now, or nil when it is finished (another process completed the pass).
    public func reload(_ run: BackfillRun) throws(PostgresError) -> BackfillRun? {
        try load("id = $1", run.id)
    }

    /// The open run matching `condition` (on `value`), with its counts.
    private func load(_ condition: String, _ value: any PostgresEncodable) throws(PostgresError) -> BackfillRun? {
        let rows = try connection.query(
            """
            SELECT id, phase, next_offset, org_offset, user_anchor_id, user_anchor_ms, org_anchor_id, org_anchor_ms,
                   member_org_id, member_offset, member_anchor_id, member_anchor_ms
              FROM backfill_runs WHERE \(condition) AND finished_at IS NULL
            """, [value])
        guard let row = rows.first else { return nil }
        // The saved counts, flattened by PostgreSQL (`{"users": {"created": 3}}` as rows), so the Store needs
        // no JSON reader of its own.
        let runId = try row.decode("id", as: Int64.self)
        var sections: [String: [String: Int]] = [:]
        for c in try connection.query(
            """
            SELECT s.key AS section, n.key AS name, n.value::text AS n
              FROM backfill_runs r, jsonb_each(r.counts) s, jsonb_each(s.value) n
             WHERE r.id = $1 AND jsonb_typeof(s.value) = 'object' AND jsonb_typeof(n.value) = 'number'
            """, [runId])
        {
            guard let n = Int(try c.decode("n", as: String.self)) else { continue }
            sections[try c.decode("section", as: String.self), default: [:]][try c.decode("name", as: String.self)] = n
        }
        var counts: [String: BackfillCounts] = [:]
        for (k, v) in sections { counts[k] = BackfillCounts(json: v) }
        var memberships: BackfillMembershipsPosition?
        if let org = try row.decodeIfPresent("member_org_id", as: String.self) {
            memberships = BackfillMembershipsPosition(
                clerkOrgId: org,
                cursor: BackfillCursor(
                    offset: try row.decodeIfPresent("member_offset", as: Int.self) ?? 0,
                    anchorId: try row.decodeIfPresent("member_anchor_id", as: String.self),
                    anchorCreatedMs: try row.decodeIfPresent("member_anchor_ms", as: Int64.self)))
        }
        return BackfillRun(
            id: runId, phase: try row.decode("phase", as: String.self),
            users: BackfillCursor(
                offset: try row.decode("next_offset", as: Int.self),
                anchorId: try row.decodeIfPresent("user_anchor_id", as: String.self),
                anchorCreatedMs: try row.decodeIfPresent("user_anchor_ms", as: Int64.self)),
            organizations: BackfillCursor(
                offset: try row.decode("org_offset", as: Int.self),
                anchorId: try row.decodeIfPresent("org_anchor_id", as: String.self),
                anchorCreatedMs: try row.decodeIfPresent("org_anchor_ms", as: Int64.self)),
            memberships: memberships, counts: counts)
    }

    /// Applies one page of users, keeps the items set aside (`skipped`, and any user PostgreSQL refuses as
    /// data, found within the page's statement) and saves the run's position (`cursor`, past all of them), in
    /// one transaction; returns what the page came to. With `dryRun`, the same work runs and is rolled back
    /// (counts are exact, nothing stays).
    public func applyUsers(
        _ users: [UserRecord], skipped: [BackfillSkip] = [], run: BackfillRun, cursor: BackfillCursor,
        environment: String, dryRun: Bool
    ) throws -> BackfillOutcome {
        var outcome = BackfillOutcome()
        outcome.setAside = skipped
        // The one place text is cleaned: PostgreSQL cannot hold NUL.
        let users = users.map { $0.cleaned().record }
        var progress = run.counts["users"] ?? BackfillCounts()
        try connection.query("BEGIN")
        do {
            // The user-link locks of the whole page, up front and sorted: applied one by one, each new user's
            // trigger took its bucket in page order, so a page beside another backfill's page, or beside an
            // organization's members (sorted), could wait on each other for good (40P01 with two processes).
            try connection.query(
                """
                SELECT count(pg_advisory_xact_lock(1869768552, t.bucket)) AS n
                  FROM (SELECT DISTINCT hashtext($1 || ':' || u) & 127 AS bucket FROM unnest($2::text[]) u ORDER BY 1) t
                """, [environment, PostgresArray(users.map { Optional($0.clerkUserId) })])
            let (counts, refused) = try applyIsolatingDataErrors(users) { slice in try applyUserRows(slice, run: run, environment: environment) }
            outcome.users = counts
            Self.settle(&outcome, refused: refused, kind: .user) { ($0.clerkUserId, $0.rawJSON) }
            Self.countSkipped(&outcome)
            try keep(outcome.setAside, run: run, environment: environment)
            progress.add(outcome.users)
            if !dryRun {
                try connection.query(
                    """
                    UPDATE backfill_runs SET next_offset = $2, user_anchor_id = $4, user_anchor_ms = $5,
                           counts = jsonb_set(counts, '{users}', $3::jsonb), updated_at = now() WHERE id = $1
                    """, [run.id, cursor.offset, progress.json, cursor.anchorId, cursor.anchorCreatedMs])
            }
            try connection.query(dryRun ? "ROLLBACK" : "COMMIT")
        } catch {
            _ = try? connection.query("ROLLBACK")
            throw error
        }
        return outcome
    }

    /// One statement of `applyUsersSQL` over `users`; their counts.
    private func applyUserRows(_ users: ArraySlice<UserRecord>, run: BackfillRun, environment: String) throws -> BackfillCounts {
        var counts = BackfillCounts()
        let rows = try connection.query(
            Self.applyUsersSQL,
            [
                environment, run.id,
                PostgresArray(users.map { Optional($0.clerkUserId) }), PostgresArray(users.map(\.email)),
                PostgresArray(users.map(\.firstName)), PostgresArray(users.map(\.lastName)),
                PostgresArray(users.map(\.username)), PostgresArray(users.map(\.imageUrl)),
                PostgresArray(users.map { Optional(#"{"data":"# + $0.rawJSON + "}") }),
                PostgresArray(users.map(\.createdAtMs)), PostgresArray(users.map(\.updatedAtMs))
            ])
        try Self.tally(rows, into: &counts)
        return counts
    }

    /// Moves the run to its next phase (`organizations`, then `done`), keeping its position.
    public func setPhase(_ phase: String, run: BackfillRun) throws(PostgresError) {
        try connection.query("UPDATE backfill_runs SET phase = $2, updated_at = now() WHERE id = $1", [run.id, phase])
    }

    /// Live local users of `environment` that this run did not see in Clerk (reported, never deleted).
    public func usersMissingInClerk(run: BackfillRun, environment: String) throws(PostgresError) -> Int {
        // Fresh statistics first: right after a first backfill into an empty database the planner still
        // believes `users` is empty and picks a nested loop that scans every seen id per user (20,000 users:
        // 32 s here, against 40 ms for the hash anti-join it picks with statistics). A table the
        // connecting role does not own is skipped with a warning, not an error.
        try connection.query("ANALYZE users, backfill_seen")
        let rows = try connection.query(
            """
            SELECT count(*) AS n FROM users u
             WHERE u.environment = $1 AND u.deleted_at IS NULL
               AND NOT EXISTS (SELECT 1 FROM backfill_seen s WHERE s.run_id = $2 AND s.kind = 'user' AND s.clerk_id = u.clerk_user_id)
            """, [environment, run.id])
        return try rows.first?.decode("n", as: Int.self) ?? 0
    }

    /// Closes the run: the next backfill starts from the beginning.
    public func finish(run: BackfillRun) throws(PostgresError) {
        try connection.query("UPDATE backfill_runs SET phase = 'done', finished_at = now(), updated_at = now() WHERE id = $1", [run.id])
    }

    /// How a listed item compares with its stored row `alias` (joined as `i` to the input), as the webhooks
    /// order versions: no row yet `create`; a tombstone or a newer row `stale`; the same version `unchanged`;
    /// otherwise `update`. One text for users, organizations and memberships, so their rules cannot drift.
    static func action(against alias: String) -> String {
        """
        CASE
                        WHEN \(alias).id IS NULL THEN 'create'
                        WHEN \(alias).deleted_at IS NOT NULL THEN 'stale'
                        WHEN i.updated_ms IS NULL OR \(alias).clerk_updated_at IS NULL THEN 'update'
                        WHEN to_timestamp(i.updated_ms / 1000.0) < \(alias).clerk_updated_at THEN 'stale'
                        WHEN to_timestamp(i.updated_ms / 1000.0) = \(alias).clerk_updated_at THEN 'unchanged'
                        ELSE 'update' END AS action
        """
    }

    /// The counts by result of a statement's `applied` and `classified` steps (what `tally` reads).
    static let tallySQL = """
        SELECT CASE WHEN outcome = 'processed' THEN CASE WHEN action = 'create' THEN 'created' ELSE 'updated' END
                    WHEN outcome = 'stale' THEN 'stale' ELSE 'unchanged' END AS result, count(*) AS n
          FROM applied GROUP BY 1
        UNION ALL
        SELECT action, count(*) FROM classified WHERE action IN ('stale', 'unchanged') GROUP BY 1
        """

    /// Adds the rows of `tallySQL` to `counts`.
    static func tally(_ rows: PostgresRows, into counts: inout BackfillCounts) throws {
        for row in rows {
            let n = try row.decode("n", as: Int.self)
            switch try row.decode("result", as: String.self) {
            case "created": counts.created += n
            case "updated": counts.updated += n
            case "stale": counts.stale += n
            default: counts.unchanged += n
            }
        }
    }

    /// Classifies each user against the stored row first: equal `clerk_updated_at` is `unchanged` and an
    /// older copy or a tombstone `stale`, both without a call; the rest go through `clerk_apply_user_event`
    /// (which checks the order again under its row lock) with a delivery id per run, user and version.
    static let applyUsersSQL = """
        WITH input AS (
            SELECT * FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                                 $10::bigint[], $11::bigint[])
                AS t(clerk_user_id, email, first_name, last_name, username, image_url, body, created_ms, updated_ms)
        ), seen AS (
            INSERT INTO backfill_seen (run_id, kind, clerk_id)
            SELECT $2, 'user', clerk_user_id FROM input ON CONFLICT DO NOTHING
        ), classified AS (
            SELECT i.*, \(action(against: "u"))
              FROM input i LEFT JOIN users u ON u.clerk_user_id = i.clerk_user_id AND u.environment = $1
        ), applied AS (
            SELECT c.action, (clerk_apply_user_event(
                       'backfill:' || $2 || ':' || c.clerk_user_id || ':' || coalesce(c.updated_ms::text, ''), $1,
                       'user.updated', c.clerk_user_id, c.email, c.first_name, c.last_name, c.username, c.image_url,
                       c.body, c.created_ms, c.updated_ms)).o_outcome AS outcome
              FROM classified c WHERE c.action IN ('create', 'update')
        )
        \(tallySQL)
        """
}
