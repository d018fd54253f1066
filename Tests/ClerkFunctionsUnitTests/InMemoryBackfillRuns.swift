@testable import ClerkFunctions
@testable import Store

/// The backfill's tables in memory with `BackfillStore`'s rules as Swift sees them: one open run per environment,
/// each page applied with its items set aside and its position at once (or, with `dryRun`, nothing kept), rows
/// ordered by `updated_at` as the webhooks order them (no row `created`, a tombstone or older copy `stale`, the
/// same version `unchanged`), what each run saw for `missingInClerk`. Ids in `refusedAsData` are refused as
/// PostgreSQL refuses data (SQLSTATE 22021). One test thread at a time.
final class InMemoryBackfillRuns: BackfillRunStore, @unchecked Sendable {
    struct Row: Equatable {
        var updatedMs: Int64?
        var deleted = false
    }
    struct Stored {
        var run: BackfillRun
        var environment: String
        var finished = false
    }
    /// Everything a transaction changes (a dry run's is dropped).
    struct State {
        var runs: [Stored] = []
        /// Rows by `<environment>/<kind>/<id>`.
        var rows: [String: Row] = [:]
        var kept: [BackfillSkip] = []
        var seen: [Int64: Set<String>] = [:]
    }
    private(set) var state = State()
    var refusedAsData: Set<String> = []
    /// Another process finishes the open run before the next `reload`.
    var finishedByAnother = false
    /// Every page as applied (committed or not): the ids it held, and the positions it saved.
    private(set) var pages: [(ids: [String], cursor: BackfillCursor, within: BackfillMembershipsPosition?)] = []

    /// A row already there.
    func add(_ kind: BackfillSkip.Kind, _ id: String, environment: String = "production", updatedMs: Int64? = 1_000, deleted: Bool = false) {
        state.rows["\(environment)/\(kind.rawValue)/\(id)"] = Row(updatedMs: updatedMs, deleted: deleted)
    }

    func row(_ kind: BackfillSkip.Kind, _ id: String, environment: String = "production") -> Row? {
        state.rows["\(environment)/\(kind.rawValue)/\(id)"]
    }

    func ids(_ kind: BackfillSkip.Kind, environment: String = "production") -> Set<String> {
        let prefix = "\(environment)/\(kind.rawValue)/"
        return Set(state.rows.keys.filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) })
    }

    var kept: [BackfillSkip] { state.kept }
    var runs: [Stored] { state.runs }
    /// The ids of every page applied, in order (a page of an organization lists it first).
    var appliedIds: [String] { pages.flatMap(\.ids) }

    func openRun(environment: String) throws(PostgresError) -> BackfillRun {
        if let open = state.runs.first(where: { $0.environment == environment && !$0.finished }) { return open.run }
        let run = BackfillRun(
            id: Int64(state.runs.count + 1), phase: "users", users: BackfillCursor(), organizations: BackfillCursor(),
            memberships: nil, counts: [:])
        state.runs.append(Stored(run: run, environment: environment))
        return run
    }

    func reload(_ run: BackfillRun) throws(PostgresError) -> BackfillRun? {
        if finishedByAnother, let at = state.runs.firstIndex(where: { $0.run.id == run.id }) { state.runs[at].finished = true }
        return state.runs.first { $0.run.id == run.id && !$0.finished }?.run
    }

    func applyUsers(
        _ users: [UserRecord], skipped: [BackfillSkip], run: BackfillRun, cursor: BackfillCursor, environment: String,
        dryRun: Bool
    ) throws -> BackfillOutcome {
        var next = state
        var outcome = BackfillOutcome()
        outcome.setAside = skipped
        for user in users {
            guard !refusedAsData.contains(user.clerkUserId) else {
                outcome.setAside.append(Self.refused(.user, user.clerkUserId, body: user.rawJSON))
                continue
            }
            Self.apply(.user, user.clerkUserId, updatedMs: user.updatedAtMs, run: run, environment: environment, &next, &outcome.users)
        }
        Self.keep(&outcome, run: run, environment: environment, &next)
        Self.save(run, &next) { saved in
            saved.users = cursor
            saved.counts["users"] = Self.sum(run.counts["users"], outcome.users)
        }
        pages.append((users.map(\.clerkUserId), cursor, nil))
        if !dryRun { state = next }
        return outcome
    }

    func applyOrganization(
        _ org: OrganizationRecord?, clerkOrgId: String?, memberships: [MembershipRecord], skipped: [BackfillSkip],
        run: BackfillRun, cursor: BackfillCursor, within: BackfillMembershipsPosition?, environment: String, dryRun: Bool
    ) throws -> BackfillOutcome {
        var next = state
        var outcome = BackfillOutcome()
        outcome.setAside = skipped
        if let org {
            if refusedAsData.contains(org.clerkOrgId) {
                outcome.setAside.append(Self.refused(.organization, org.clerkOrgId, body: org.rawJSON))
            } else {
                Self.apply(
                    .organization, org.clerkOrgId, updatedMs: org.updatedAtMs, run: run, environment: environment, &next, &outcome.organizations)
            }
        }
        if clerkOrgId != nil {
            for m in memberships {
                guard !refusedAsData.contains(m.clerkMembershipId) else {
                    outcome.setAside.append(Self.refused(.membership, m.clerkMembershipId, body: ""))
                    continue
                }
                Self.apply(
                    .membership, m.clerkMembershipId, updatedMs: m.updatedAtMs, run: run, environment: environment, &next, &outcome.memberships)
            }
        }
        Self.keep(&outcome, run: run, environment: environment, &next)
        Self.save(run, &next) { saved in
            saved.organizations = cursor
            saved.memberships = within
            saved.counts["organizations"] = Self.sum(run.counts["organizations"], outcome.organizations)
            saved.counts["memberships"] = Self.sum(run.counts["memberships"], outcome.memberships)
        }
        pages.append(((org.map { [$0.clerkOrgId] } ?? []) + memberships.map(\.clerkMembershipId), cursor, within))
        if !dryRun { state = next }
        return outcome
    }

    /// Billing items as applied (by id, in order), each at most once per run like the delivery ids.
    private(set) var billingApplied: [String] = []

    func applyBillingItems(
        _ items: [BillingItemRecord], skipped: [BackfillSkip], run: BackfillRun, environment: String, dryRun: Bool
    ) throws -> BackfillOutcome {
        var next = state
        var outcome = BackfillOutcome()
        outcome.setAside = skipped
        for item in items {
            Self.apply(.billingItem, item.clerkItemId, updatedMs: item.updatedAtMs, run: run, environment: environment, &next, &outcome.billing)
        }
        Self.keep(&outcome, run: run, environment: environment, &next)
        if !dryRun {
            state = next
            billingApplied += items.map(\.clerkItemId)
        }
        return outcome
    }

    func setPhase(_ phase: String, run: BackfillRun) throws(PostgresError) { Self.save(run, &state) { $0.phase = phase } }

    func usersMissingInClerk(run: BackfillRun, environment: String) throws(PostgresError) -> Int {
        missing([.user], run: run, environment: environment)
    }

    func organizationsMissingInClerk(run: BackfillRun, environment: String) throws(PostgresError) -> Int {
        missing([.organization, .membership], run: run, environment: environment)
    }

    func finish(run: BackfillRun) throws(PostgresError) {
        guard let at = state.runs.firstIndex(where: { $0.run.id == run.id }) else { return }
        state.runs[at].finished = true
        state.runs[at].run.phase = "done"
    }

    private func missing(_ kinds: [BackfillSkip.Kind], run: BackfillRun, environment: String) -> Int {
        let seen = state.seen[run.id] ?? []
        return state.rows.filter { key, row in
            !row.deleted && kinds.contains { key.hasPrefix("\(environment)/\($0.rawValue)/") }
                && !seen.contains(String(key.dropFirst(environment.count + 1)))
        }.count
    }

    /// One item ordered against its row as the webhooks order versions.
    private static func apply(
        _ kind: BackfillSkip.Kind, _ id: String, updatedMs: Int64?, run: BackfillRun, environment: String, _ state: inout State,
        _ counts: inout BackfillCounts
    ) {
        state.seen[run.id, default: []].insert("\(kind.rawValue)/\(id)")
        let key = "\(environment)/\(kind.rawValue)/\(id)"
        guard let row = state.rows[key] else {
            state.rows[key] = Row(updatedMs: updatedMs)
            counts.created += 1
            return
        }
        if row.deleted {
            counts.stale += 1
        } else if let mine = updatedMs, let theirs = row.updatedMs, mine <= theirs {
            if mine < theirs { counts.stale += 1 } else { counts.unchanged += 1 }
        } else {
            state.rows[key]?.updatedMs = updatedMs
            counts.updated += 1
        }
    }

    private static func refused(_ kind: BackfillSkip.Kind, _ id: String, body: String) -> BackfillSkip {
        BackfillSkip(kind: kind, clerkId: id, reason: "data_error", detail: "22021", body: body)
    }

    /// Counts what `outcome` set aside as skipped, keeps it and marks its ids seen.
    private static func keep(_ outcome: inout BackfillOutcome, run: BackfillRun, environment: String, _ state: inout State) {
        for skip in outcome.setAside {
            switch skip.kind {
            case .user: outcome.users.skipped += 1
            case .organization: outcome.organizations.skipped += 1
            case .membership: outcome.memberships.skipped += 1
            case .billingItem: outcome.billing.skipped += 1
            }
            if let id = skip.clerkId { state.seen[run.id, default: []].insert("\(skip.kind.rawValue)/\(id)") }
        }
        state.kept += outcome.setAside
    }

    /// Changes the saved run (only the columns `change` names, as the store's UPDATEs do).
    private static func save(_ run: BackfillRun, _ state: inout State, _ change: (inout BackfillRun) -> Void) {
        guard let at = state.runs.firstIndex(where: { $0.run.id == run.id }) else { return }
        change(&state.runs[at].run)
    }

    /// The run's counts so far (as the caller holds them) with a page's added: what the store saves.
    private static func sum(_ before: BackfillCounts?, _ page: BackfillCounts) -> BackfillCounts {
        var total = before ?? BackfillCounts()
        total.add(page)
        return total
    }
}
