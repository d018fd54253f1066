import LambdaRuntime
import LocalHosting
import Store
import StoreTestSupport
import XCTest

/// The backfill's locks, each proved by two transactions held at a gate PostgreSQL shows them waiting at, then
/// let go together: the order of the organization's lock, and the per-item lock of a kept item.
final class BackfillLockTests: XCTestCase {
    var db: PostgresConnection!

    override func setUpWithError() throws {
        db = try TestDatabase.connect()
        try TestDatabase.reset(db)
    }

    override func tearDown() { db = nil }

    /// Work started on another thread, its error kept.
    final class Job: @unchecked Sendable {
        private let done = ConditionLock()
        private var finished = false
        private var failure: String?

        init(_ work: @escaping @Sendable () throws -> Void) {
            Threads.detach { [self] in
                var message: String?
                do { try work() } catch { message = "\(error)" }
                done.withLock {
                    finished = true
                    failure = message
                }
                done.broadcast()
            }
        }

        var isFinished: Bool { done.withLock { finished } }

        /// The job's error, nil when it succeeded; fails the test when it never ends.
        func result() -> String? {
            XCTAssertTrue(done.wait(timeoutMs: 60_000) { finished }, "the job never ended")
            return done.withLock { failure }
        }
    }

    func count(_ sql: String) throws -> Int { try db.query(sql).first?.decode("n", as: Int.self) ?? -1 }

    /// A page of memberships takes its organization's lock before its members' user locks, in the order a
    /// membership event takes them. Held at the organization's lock behind a waiting `organizationMembership`
    /// event of the same organization and user, both then apply; taken the other way round (the users' first),
    /// the page would hold the user the event needs while waiting for the organization the event holds (40P01).
    func testAPageOfMembersBesideAMembershipEventOfTheSameOrganizationNeverDeadlocks() throws {
        let run = try BackfillStore(connection: db).openRun(environment: "production")
        let gate = try LockGate(["SELECT clerk_org_lock('organization', 'production', 'org_lk')"])
        let event = Job {
            _ = try OrganizationStore(connection: PostgresConnection(url: TestDatabase.url)).apply(
                MembershipChange(
                    kind: .created, deliveryId: "msg_lk", environment: "production",
                    membership: MembershipRecord(
                        clerkMembershipId: "orgmem_event", clerkOrgId: "org_lk", clerkUserId: "user_lk0",
                        role: "org:admin", createdAtMs: 1, updatedAtMs: 1, rawJSON: "{}")))
        }
        XCTAssertEqual(try gate.waitForWaiters(1) { event.isFinished }.count, 1, "the event waits for the organization first")
        let members = (0..<3).map {
            MembershipRecord(
                clerkMembershipId: "orgmem_lk\($0)", clerkOrgId: "org_lk", clerkUserId: "user_lk\($0)",
                role: "org:member", createdAtMs: 1, updatedAtMs: 1, rawJSON: "{}")
        }
        let page = Job {
            _ = try BackfillStore(connection: PostgresConnection(url: TestDatabase.url)).applyOrganization(
                nil, clerkOrgId: "org_lk", memberships: members, run: run, cursor: run.organizations, environment: "production",
                dryRun: false)
        }
        let waiting = try gate.waitForWaiters(2) { page.isFinished }
        XCTAssertEqual(waiting.count, 2, "the page waits behind the event: \(waiting)")
        try gate.release()
        XCTAssertNil(event.result(), "no deadlock")
        XCTAssertNil(page.result(), "no deadlock")
        XCTAssertEqual(try count("SELECT count(*) AS n FROM organization_memberships WHERE clerk_org_id = 'org_lk'"), 4)
    }

    /// Two runs keep the same new item at once (each with its own copy of the body), held together inside the
    /// transaction that keeps it: one waits for the other's per-item lock, sees its row and replaces the body. Without the lock both inserts pass
    /// the conflict check unseen and the second fails on the body-keyed index (23505).
    func testTwoRunsHeldTogetherKeepingTheSameItemKeepOneRowAndFailNeither() throws {
        let gate = try LockGate(["LOCK TABLE queue_rejects IN SHARE ROW EXCLUSIVE MODE"])
        let runs = (0..<2).map { r in
            Job {
                try BackfillKeepTests.keep([BackfillKeepTests.skip("user_held", body: "{\(r)}")], on: PostgresConnection(url: TestDatabase.url))
            }
        }
        let waiting = try gate.waitForWaiters(2) { runs.contains { $0.isFinished } }
        XCTAssertEqual(waiting.count, 2, "both runs hold their keep before either writes: \(waiting)")
        try gate.release()
        XCTAssertEqual(runs.map { $0.result() }, [nil, nil])
        XCTAssertEqual(try count("SELECT count(*) AS n FROM queue_rejects WHERE message_id = 'production/user/user_held'"), 1)
    }
}
