import ClerkKit
import JSON
import LambdaRuntime
import Store

/// Pages through Clerk's users (500 at a time), then its organizations (500 at a time) and each one's
/// memberships, into PostgreSQL with the webhooks' rules, resumably; then Clerk Billing's subscription items
/// when the instance has Billing (`Backfill+Billing`).
///
/// The run's position is saved with each page of users and with each page of an organization's memberships
/// (the organization itself going with its first page), in that work's own transaction: a run killed midway
/// is resumed by the next one, which redoes nothing, inside an organization when it stopped there (so one
/// with more members than an invocation can list still completes). The position is the last item applied,
/// not only an offset (`BackfillCursor`), so items Clerk deletes in between do not make the next read skip
/// others; all three lists are paged the same way (`BackfillCursor.walk`). One bad item never stops a run: an item that is not the documented shape, or
/// that PostgreSQL refuses as data, is set aside (`BackfillSkip`: counted, logged, kept in `queue_rejects`)
/// and the position moves past it.
public struct Backfill {
    /// What to backfill.
    public enum Kind: String, Sendable, CaseIterable { case users, organizations, billing }

    let api: any ClerkLists
    let store: any BackfillRunStore
    let environment: String
    let logger: Logger
    /// Users per Backend API page (Clerk's maximum is 500).
    public var pageSize = 500
    /// Epoch ms now, what the deadline is measured against (a scripted clock in the unit tier).
    var clock: () -> Int64 = Clock.nowMs

    /// Uses `api` for the instance of `environment` and `connection` for the database.
    public init(api: ClerkBackendAPI, connection: PostgresConnection, environment: String, logger: Logger) {
        self.init(lists: api, store: PostgresBackfillRuns(connection: connection), environment: environment, logger: logger)
    }

    /// Reads `lists` for the instance of `environment` and keeps its work in `store`.
    init(lists: any ClerkLists, store: any BackfillRunStore, environment: String, logger: Logger) {
        self.api = lists
        self.store = store
        self.environment = environment
        self.logger = logger
    }

    /// Runs until done or until less than `reserveMs` is left before `deadlineMs`; `progress` hears each page.
    public func run(
        only: Set<Kind> = Set(Kind.allCases), dryRun: Bool = false, deadlineMs: Int64, reserveMs: Int64 = 2000,
        progress: (String) -> Void = { _ in }
    ) throws -> BackfillSummary {
        var summary = BackfillSummary()
        var run = try store.openRun(environment: environment)
        summary.users = run.counts["users"] ?? BackfillCounts()
        summary.organizations = run.counts["organizations"] ?? BackfillCounts()
        summary.memberships = run.counts["memberships"] ?? BackfillCounts()
        let limits = Limits(deadlineMs: deadlineMs, reserveMs: reserveMs, dryRun: dryRun, now: clock)
        if only.contains(.users) && run.phase == "users" {
            guard try users(&run, &summary, limits, progress: progress) else { return summary }
            // A resumed run starts at the organizations.
            if !dryRun { try store.setPhase("organizations", run: run) }
        }
        if only.contains(.organizations) {
            guard try organizations(&run, &summary, limits, progress: progress) else { return summary }
            summary.missingInClerk += try store.organizationsMissingInClerk(run: run, environment: environment)
        }
        if only.contains(.billing) {
            guard try billing(&run, &summary, limits, progress: progress) else { return summary }
        }
        if only.contains(.users) { summary.missingInClerk += try store.usersMissingInClerk(run: run, environment: environment) }
        summary.complete = true
        if !dryRun { try store.finish(run: run) }
        return summary
    }

    /// When a run must stop, and whether it keeps its work.
    struct Limits {
        var deadlineMs: Int64
        var reserveMs: Int64
        var dryRun: Bool
        var now: () -> Int64 = Clock.nowMs

        /// Whether there is time for another request and the work after it.
        var timeLeft: Bool { deadlineMs - now() > reserveMs }
    }

    /// Users from the run's position on, a page per transaction (the items set aside with it); false when the
    /// deadline, or another process finishing the pass, stopped it.
    func users(_ run: inout BackfillRun, _ summary: inout BackfillSummary, _ limits: Limits, progress: (String) -> Void) throws -> Bool {
        let pageSize = max(self.pageSize, 2)
        if run.users.offset > 0 { progress("resuming after user \(run.users.offset)") }
        let start = run.users
        let walked = try start.walk(pageSize: pageSize, key: { $0.key }, canRead: { limits.timeLeft }) { offset in
            try api.usersWithJSON(limit: pageSize, offset: offset, deadlineMs: limits.deadlineMs)
        } apply: { read, cursor in
            let next = cursor.advanced(pastAllOf: read) { $0.key }
            if next != cursor {
                let (users, skips) = Self.split(read.fresh.map { read.page[$0] }, kind: .user) { UserRecord($0, json: $1) }
                let outcome = try store.applyUsers(users, skipped: skips, run: run, cursor: next, environment: environment, dryRun: limits.dryRun)
                summary.users.add(outcome.users)
                log(outcome.setAside)
                // A dry run saves nothing: it pages on from its cursor in memory.
                if !limits.dryRun {
                    // Another process may have finished this pass meanwhile: stop, rather than carry this
                    // position into the next pass (which would start it midway).
                    guard let reloaded = try store.reload(run) else {
                        progress("another backfill finished this pass")
                        return nil
                    }
                    run = reloaded
                }
            }
            progress(
                "users: \(next.offset) read, \(summary.users.created) created, \(summary.users.updated) updated, "
                    + "\(summary.users.unchanged) unchanged, \(summary.users.stale) stale, \(summary.users.skipped) skipped")
            return next
        }
        return walked.finished
    }

    /// Logs each item set aside by kind, id (when it has one) and reason; never its body.
    func log(_ skips: [BackfillSkip]) {
        for skip in skips {
            if let id = skip.clerkId {
                logger.warn(
                    "backfill item skipped",
                    [
                        "kind": .string(skip.kind.rawValue), "clerkId": .string(id),
                        "reason": .string(skip.reason), "detail": .string(skip.detail)
                    ])
            } else {
                logger.warn(
                    "backfill item skipped",
                    [
                        "kind": .string(skip.kind.rawValue), "reason": .string(skip.reason),
                        "detail": .string(skip.detail)
                    ])
            }
        }
    }
}
