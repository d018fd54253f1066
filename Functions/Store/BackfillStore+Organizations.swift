extension BackfillStore {
    /// Applies one organization's page of memberships (with the organization itself, `org`, on its first page),
    /// keeps the items set aside (`skipped`, and any PostgreSQL refuses as data, found within their statements)
    /// and saves the run's position, in one transaction; returns what it came to. The position is `cursor` for
    /// the organizations and `within` inside this organization's memberships: nil on its last page (`cursor`
    /// then past it), else where its memberships stand (`cursor` then before it), so an organization with more
    /// members than one invocation can list is resumed inside it. `org` is nil on a later page, or when Clerk's
    /// organization was refused: its memberships (listed under `clerkOrgId`) are applied all the same and wait,
    /// unlinked, as members of an organization that has not arrived. With `dryRun`, the same work runs and is
    /// rolled back.
    public func applyOrganization(
        _ org: OrganizationRecord?, clerkOrgId: String?, memberships: [MembershipRecord],
        skipped: [BackfillSkip] = [], run: BackfillRun, cursor: BackfillCursor,
        within: BackfillMembershipsPosition? = nil, environment: String, dryRun: Bool
    ) throws
        -> BackfillOutcome
    {
        var outcome = BackfillOutcome()
        outcome.setAside = skipped
        // The one place text is cleaned: PostgreSQL cannot hold NUL.
        let org = org?.cleaned().record
        let memberships = memberships.map { $0.cleaned().record }
        try connection.query("BEGIN")
        do {
            if let org {
                let (counts, refused) = try applyIsolatingDataErrors([org]) { slice in
                    try applyOrganizationRow(slice, run: run, environment: environment)
                }
                outcome.organizations = counts
                Self.settle(&outcome, refused: refused, kind: .organization) { ($0.clerkOrgId, $0.rawJSON) }
            }
            if let clerkOrgId, !memberships.isEmpty {
                outcome.memberships = try applyMemberships(memberships, of: clerkOrgId, run: run, environment: environment, outcome: &outcome)
            }
            Self.countSkipped(&outcome)
            try keep(outcome.setAside, run: run, environment: environment)
            if !dryRun { try save(outcome, run: run, cursor: cursor, within: within) }
            try connection.query(dryRun ? "ROLLBACK" : "COMMIT")
        } catch {
            _ = try? connection.query("ROLLBACK")
            throw error
        }
        return outcome
    }

    /// Saves the run's organizations position `cursor`, its memberships position `within` (cleared when nil)
    /// and its counts with `outcome` added.
    private func save(
        _ outcome: BackfillOutcome, run: BackfillRun, cursor: BackfillCursor,
        within: BackfillMembershipsPosition?
    ) throws(PostgresError) {
        var orgProgress = run.counts["organizations"] ?? BackfillCounts()
        orgProgress.add(outcome.organizations)
        var memberProgress = run.counts["memberships"] ?? BackfillCounts()
        memberProgress.add(outcome.memberships)
        try connection.query(
            """
            UPDATE backfill_runs SET org_offset = $4, org_anchor_id = $5, org_anchor_ms = $6,
                   member_org_id = $7, member_offset = $8, member_anchor_id = $9, member_anchor_ms = $10,
                   counts = counts || jsonb_build_object('organizations', $2::jsonb, 'memberships', $3::jsonb),
                   updated_at = now() WHERE id = $1
            """,
            [
                run.id, orgProgress.json, memberProgress.json, cursor.offset, cursor.anchorId, cursor.anchorCreatedMs,
                within?.clerkOrgId, within?.cursor.offset, within?.cursor.anchorId, within?.cursor.anchorCreatedMs
            ])
    }

    /// The organization's statement (one row: `slice` holds it); its counts.
    private func applyOrganizationRow(_ slice: ArraySlice<OrganizationRecord>, run: BackfillRun, environment: String) throws
        -> BackfillCounts
    {
        var counts = BackfillCounts()
        for org in slice {
            let rows = try connection.query(
                Self.applyOrganizationSQL,
                [
                    environment, run.id, org.clerkOrgId, org.name, org.slug, org.imageUrl, org.publicMetadataJSON ?? "{}",
                    #"{"data":"# + org.rawJSON + "}", org.createdAtMs, org.updatedAtMs
                ])
            try Self.tally(rows, into: &counts)
        }
        return counts
    }

    /// `memberships` of `clerkOrgId`, those PostgreSQL refuses set aside in `outcome`; their counts.
    private func applyMemberships(
        _ memberships: [MembershipRecord], of clerkOrgId: String, run: BackfillRun, environment: String,
        outcome: inout BackfillOutcome
    ) throws -> BackfillCounts {
        // The locks a membership event takes, all up front and in one order: the organization's, then the
        // users' buckets sorted (as the users trigger takes them). Taken one by one in member order, two
        // backfills, or a backfill beside a page of new users, could wait on each other for good.
        try connection.query("SELECT clerk_org_lock('organization', $1, $2)", [environment, clerkOrgId])
        try connection.query(
            """
            SELECT count(pg_advisory_xact_lock(1869768552, t.bucket)) AS n
              FROM (SELECT DISTINCT hashtext($1 || ':' || u) & 127 AS bucket
                      FROM unnest($2::text[]) u WHERE u IS NOT NULL ORDER BY 1) t
            """, [environment, PostgresArray(memberships.map(\.clerkUserId))])
        let (counts, refused) = try applyIsolatingDataErrors(memberships) { slice in
            var counts = BackfillCounts()
            let rows = try connection.query(
                Self.applyMembershipsSQL,
                [
                    environment, run.id, clerkOrgId,
                    PostgresArray(slice.map { Optional($0.clerkMembershipId) }), PostgresArray(slice.map(\.clerkUserId)),
                    PostgresArray(slice.map(\.role)),
                    PostgresArray(slice.map { m in Optional("[" + m.permissions.map(Self.jsonString).joined(separator: ",") + "]") }),
                    PostgresArray(slice.map(\.createdAtMs)), PostgresArray(slice.map(\.updatedAtMs))
                ])
            try Self.tally(rows, into: &counts)
            return counts
        }
        Self.settle(&outcome, refused: refused, kind: .membership) { ($0.clerkMembershipId, $0.rawJSON) }
        return counts
    }

    /// Live local organizations and memberships of `environment` this run did not see in Clerk.
    public func organizationsMissingInClerk(run: BackfillRun, environment: String) throws(PostgresError) -> Int {
        // Fresh statistics first, for the same reason as `usersMissingInClerk`.
        try connection.query("ANALYZE organizations, organization_memberships, backfill_seen")
        let rows = try connection.query(
            """
            SELECT (SELECT count(*) FROM organizations o
                     WHERE o.environment = $1 AND o.deleted_at IS NULL
                       AND NOT EXISTS (SELECT 1 FROM backfill_seen s WHERE s.run_id = $2 AND s.kind = 'organization' AND s.clerk_id = o.clerk_org_id))
                 + (SELECT count(*) FROM organization_memberships m
                     WHERE m.environment = $1 AND m.deleted_at IS NULL
                       AND NOT EXISTS (SELECT 1 FROM backfill_seen s WHERE s.run_id = $2 AND s.kind = 'membership' AND s.clerk_id = m.clerk_membership_id)) AS n
            """, [environment, run.id])
        return try rows.first?.decode("n", as: Int.self) ?? 0
    }

    /// A JSON string literal (permission names go to the database as a JSON array per membership).
    static func jsonString(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\u{0}": break
            case _ where c.value < 0x20: out += "\\u" + String(c.value, radix: 16).leftPadded(to: 4)
            default: out.unicodeScalars.append(c)
            }
        }
        return out + "\""
    }

    /// The organization, classified against the stored row as users are (`unchanged` and `stale` without a
    /// call), the rest through `clerk_apply_organization_event`.
    static let applyOrganizationSQL = """
        WITH input AS (
            SELECT $3::text AS clerk_org_id, $4::text AS name, $5::text AS slug, $6::text AS image_url, $7::text AS metadata,
                   $8::text AS body, $9::bigint AS created_ms, $10::bigint AS updated_ms
        ), seen AS (
            INSERT INTO backfill_seen (run_id, kind, clerk_id) SELECT $2, 'organization', clerk_org_id FROM input ON CONFLICT DO NOTHING
        ), classified AS (
            SELECT i.*, \(action(against: "o"))
              FROM input i LEFT JOIN organizations o ON o.clerk_org_id = i.clerk_org_id AND o.environment = $1
        ), applied AS (
            SELECT c.action, (clerk_apply_organization_event(
                       'backfill:' || $2 || ':' || c.clerk_org_id || ':' || coalesce(c.updated_ms::text, ''), $1,
                       'organization.updated', c.clerk_org_id, c.name, c.slug, c.image_url, c.metadata, c.body,
                       c.created_ms, c.updated_ms)).o_outcome AS outcome
              FROM classified c WHERE c.action IN ('create', 'update')
        )
        \(tallySQL)
        """

    /// One organization's memberships in one statement, likewise through `clerk_apply_membership_event`
    /// (which links users and the organization and refuses members of a deleted organization).
    static let applyMembershipsSQL = """
        WITH input AS (
            SELECT * FROM unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::bigint[])
                AS t(clerk_membership_id, clerk_user_id, role, permissions, created_ms, updated_ms)
        ), seen AS (
            INSERT INTO backfill_seen (run_id, kind, clerk_id)
            SELECT $2, 'membership', clerk_membership_id FROM input ON CONFLICT DO NOTHING
        ), classified AS (
            SELECT i.*, \(action(against: "m"))
              FROM input i LEFT JOIN organization_memberships m
                ON m.clerk_membership_id = i.clerk_membership_id AND m.environment = $1
        ), applied AS (
            SELECT c.action, (clerk_apply_membership_event(
                       'backfill:' || $2 || ':' || c.clerk_membership_id || ':' || coalesce(c.updated_ms::text, ''), $1,
                       'organizationMembership.updated', c.clerk_membership_id, $3, c.clerk_user_id, c.role,
                       ARRAY(SELECT jsonb_array_elements_text(c.permissions::jsonb)), c.created_ms, c.updated_ms)).o_outcome AS outcome
              FROM classified c WHERE c.action IN ('create', 'update')
        )
        \(tallySQL)
        """
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
