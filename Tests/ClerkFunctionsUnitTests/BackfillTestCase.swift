import ClerkKit
import LambdaRuntime
import Store
import XCTest

@testable import ClerkFunctions

/// What the backfill's unit tests share: Clerk's lists scripted, the store in memory, a clock moved by hand, the
/// log lines and progress lines recorded, and a run at a small page size.
class BackfillTestCase: XCTestCase {
    let clerk = ScriptedClerkLists()
    let runs = InMemoryBackfillRuns()
    let clock = ScriptedClock()
    let logs = RecordingLogs()
    var progress: [String] = []

    func backfill(
        _ only: Set<Backfill.Kind> = Set(Backfill.Kind.allCases), dryRun: Bool = false, budgetMs: Int64 = 1_000_000,
        pageSize: Int = 3
    ) throws -> BackfillSummary {
        var backfill = Backfill(lists: clerk, store: runs, environment: "production", logger: logs.logger)
        backfill.pageSize = pageSize
        backfill.clock = { [clock] in clock.nowMs }
        return try backfill.run(only: only, dryRun: dryRun, deadlineMs: clock.nowMs + budgetMs, reserveMs: 2000) { self.progress.append($0) }
    }

    /// `count` users `user_u<i>`, created one ms apart (Clerk's order).
    static func users(_ count: Int) -> [String] { (0..<count).map { ScriptedClerkLists.user("user_u\($0)", created: Int64($0 + 1)) } }
    static func userIds(_ count: Int) -> [String] { (0..<count).map { "user_u\($0)" } }

    /// Organization `id` listed at `created`, with `members` memberships `orgmem_<id>_<i>`.
    func addOrganization(_ id: String, created: Int64, members: Int) {
        clerk.organizations.append(ScriptedClerkLists.organization(id, created: created))
        clerk.memberships[id] = (0..<members).map {
            ScriptedClerkLists.membership("orgmem_\(id)_\($0)", org: id, user: "user_m\($0)", created: Int64($0 + 1))
        }
    }
}
