import Store

/// What a backfill keeps: its run and positions, each page of users or of an organization's memberships with
/// the items set aside, and what the pass did not see (`BackfillStore` in PostgreSQL; an in-memory one in the
/// unit tier).
protocol BackfillRunStore: Sendable {
    /// The open run of `environment`, or a new one.
    func openRun(environment: String) throws(PostgresError) -> BackfillRun
    /// `run` as saved now, or nil when another process finished it.
    func reload(_ run: BackfillRun) throws(PostgresError) -> BackfillRun?
    /// One page of users with the items set aside and the position `cursor`, at once (rolled back with `dryRun`).
    func applyUsers(
        _ users: [UserRecord], skipped: [BackfillSkip], run: BackfillRun, cursor: BackfillCursor, environment: String,
        dryRun: Bool
    ) throws -> BackfillOutcome
    /// One page of an organization's memberships (the organization with the first), the items set aside and the
    /// positions `cursor` and `within`, at once (rolled back with `dryRun`).
    func applyOrganization(
        _ org: OrganizationRecord?, clerkOrgId: String?, memberships: [MembershipRecord], skipped: [BackfillSkip],
        run: BackfillRun, cursor: BackfillCursor, within: BackfillMembershipsPosition?, environment: String, dryRun: Bool
    ) throws -> BackfillOutcome
    /// One page of Clerk Billing subscription items with the items set aside, at once (rolled back with `dryRun`).
    func applyBillingItems(
        _ items: [BillingItemRecord], skipped: [BackfillSkip], run: BackfillRun, environment: String, dryRun: Bool
    ) throws -> BackfillOutcome
    /// Moves the run to `phase`.
    func setPhase(_ phase: String, run: BackfillRun) throws(PostgresError)
    /// Live local users the run did not see in Clerk.
    func usersMissingInClerk(run: BackfillRun, environment: String) throws(PostgresError) -> Int
    /// Live local organizations and memberships the run did not see in Clerk.
    func organizationsMissingInClerk(run: BackfillRun, environment: String) throws(PostgresError) -> Int
    /// Closes the run.
    func finish(run: BackfillRun) throws(PostgresError)
}

/// The backfill's tables in PostgreSQL, over a connection: the function's one, which serves one invocation at
/// a time (as `DatabaseSession` keeps it), or the developer CLI's.
struct PostgresBackfillRuns: BackfillRunStore, @unchecked Sendable {
    let connection: PostgresConnection
    private var store: BackfillStore { BackfillStore(connection: connection) }

    func openRun(environment: String) throws(PostgresError) -> BackfillRun { try store.openRun(environment: environment) }

    func reload(_ run: BackfillRun) throws(PostgresError) -> BackfillRun? { try store.reload(run) }

    func applyUsers(
        _ users: [UserRecord], skipped: [BackfillSkip], run: BackfillRun, cursor: BackfillCursor, environment: String,
        dryRun: Bool
    ) throws -> BackfillOutcome {
        try store.applyUsers(users, skipped: skipped, run: run, cursor: cursor, environment: environment, dryRun: dryRun)
    }

    func applyOrganization(
        _ org: OrganizationRecord?, clerkOrgId: String?, memberships: [MembershipRecord], skipped: [BackfillSkip],
        run: BackfillRun, cursor: BackfillCursor, within: BackfillMembershipsPosition?, environment: String, dryRun: Bool
    ) throws -> BackfillOutcome {
        try store.applyOrganization(
            org, clerkOrgId: clerkOrgId, memberships: memberships, skipped: skipped, run: run, cursor: cursor,
            within: within, environment: environment, dryRun: dryRun)
    }

    func applyBillingItems(
        _ items: [BillingItemRecord], skipped: [BackfillSkip], run: BackfillRun, environment: String, dryRun: Bool
    ) throws -> BackfillOutcome {
        try store.applyBillingItems(items, skipped: skipped, run: run, environment: environment, dryRun: dryRun)
    }

    func setPhase(_ phase: String, run: BackfillRun) throws(PostgresError) { try store.setPhase(phase, run: run) }

    func usersMissingInClerk(run: BackfillRun, environment: String) throws(PostgresError) -> Int {
        try store.usersMissingInClerk(run: run, environment: environment)
    }

    func organizationsMissingInClerk(run: BackfillRun, environment: String) throws(PostgresError) -> Int {
        try store.organizationsMissingInClerk(run: run, environment: environment)
    }

    func finish(run: BackfillRun) throws(PostgresError) { try store.finish(run: run) }
}
