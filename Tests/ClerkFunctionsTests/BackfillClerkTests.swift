import ClerkFunctions
import JSON
import LambdaRuntime
import LocalHosting
import Store
import TestSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// `backfillClerk` and `clerk-functions backfill`: Clerk's users, organizations and memberships into
/// PostgreSQL with the webhooks' rules.
final class BackfillClerkTests: XCTestCase {
    var db: PostgresConnection!
    var standIn: ClerkAPIStandIn!

    override func setUpWithError() throws {
        db = try TestDatabase.connect()
        try TestDatabase.reset(db)
        try db.query("TRUNCATE backfill_runs CASCADE")
        standIn = try ClerkAPIStandIn()
    }

    // XCTest keeps every test case alive until the run ends: release the harness and its connections now.
    override func tearDown() {
        db = nil
        standIn = nil
    }

    var env: [String: String] {
        [
            "DATABASE_URL": TestDatabase.url, "CLERK_API_URL": standIn.baseURL, "CLERK_SECRET_KEY": standIn.secretKey,
            "CLERK_ENVIRONMENT": "production"
        ]
    }

    func invoke(_ event: String = "{}") throws -> JSONValue {
        let harness = LocalHarness(registry: Functions.registry, environment: Environment(env), logger: Logger(level: .error))
        return try JSONValue.parse(try harness.invoke("backfillClerk", event: Array(event.utf8), timeoutMs: 120_000))
    }

    func count(_ sql: String) throws -> Int { try db.query(sql).first?.decode("n", as: Int.self) ?? -1 }

    /// The CLI's environment, logging errors only.
    var quietChildEnvironment: [String: String] {
        var childEnv = childEnvironment(env)
        childEnv["AWS_LAMBDA_LOG_LEVEL"] = "error"
        return childEnv
    }

    /// Starts `clerk-functions backfill` and kills it once `sql` counts at least `n`; returns the count then.
    func killBackfill(once sql: String, reaches n: Int, environment childEnv: [String: String]) throws -> Int {
        let first = try Subprocess(path: BuiltProducts.clerkFunctions, arguments: ["backfill"], environment: childEnv)
        let started = Clock.monotonicNs()
        while try count(sql) < n && Clock.monotonicNs() - started < 60_000_000_000 { usleep(20_000) }
        first.kill(SIGKILL)
        _ = first.wait()
        return try count(sql)
    }

    /// Forty organizations of one member each, served slowly, and a backfill killed after the third.
    func killedAmongFortyOrganizations(environment childEnv: [String: String]) throws -> Int {
        standIn.addUser(id: "user_k", email: "k@example.com")
        for i in 0..<40 {
            standIn.addOrganization(id: "org_k\(i)", name: "K\(i)", slug: "k\(i)", members: [("orgmem_k\(i)", "user_k", "org:member")])
        }
        standIn.delayMs = 150
        return try killBackfill(once: "SELECT count(*) AS n FROM organizations", reaches: 3, environment: childEnv)
    }

    func testNewUsersGetTheirRowsAndAStaleOrDeletedLocalCopyIsNotOverwritten() throws {
        for i in 0..<1200 { standIn.addUser(id: "user_bf\(i)", email: "bf\(i)@example.com", updatedAt: 1_735_732_800_000 + Int64(i)) }
        // Local: bf0 newer than Clerk's copy, bf1 deleted, bf2 exactly Clerk's copy, and one Clerk no longer has.
        try db.query(
            """
            INSERT INTO users (clerk_user_id, environment, email, clerk_updated_at, deleted_at) VALUES
              ('user_bf0', 'production', 'newer@example.com', to_timestamp(1900000000), NULL),
              ('user_bf1', 'production', NULL, to_timestamp(1735732800.001), now()),
              ('user_gone', 'production', 'gone@example.com', to_timestamp(1735732800), NULL)
            """)
        let first = try invoke()["production"]
        XCTAssertEqual(first?["users"]?["created"]?.doubleValue, 1198)
        XCTAssertEqual(first?["users"]?["stale"]?.doubleValue, 2)
        XCTAssertEqual(first?["missingInClerk"]?.doubleValue, 1, "user_gone is reported, not deleted")
        XCTAssertEqual(first?["complete"]?.boolValue, true)
        XCTAssertEqual(try count("SELECT count(*) AS n FROM users WHERE clerk_user_id = 'user_gone' AND deleted_at IS NULL"), 1)
        XCTAssertEqual(
            try count(
                "SELECT count(*) AS n FROM users u JOIN subscriptions s ON s.user_id = u.id JOIN usage_metrics m ON m.user_id = u.id WHERE s.tier = 'free'"
            ), 1198)
        XCTAssertEqual(try count("SELECT count(*) AS n FROM users WHERE clerk_user_id = 'user_bf0' AND email = 'newer@example.com'"), 1)
        XCTAssertEqual(try count("SELECT count(*) AS n FROM users WHERE clerk_user_id = 'user_bf1' AND deleted_at IS NOT NULL AND email IS NULL"), 1)
        XCTAssertEqual(
            try count(
                "SELECT count(*) AS n FROM users WHERE clerk_user_id = 'user_bf7' AND email = 'bf7@example.com' AND raw_payload ->> 'id' = 'user_bf7'"
            ), 1)
        XCTAssertEqual(try count("SELECT count(*) AS n FROM outbox WHERE queue = 'user-events' AND payload ->> 'type' = 'user.created'"), 1198)
        XCTAssertEqual(standIn.requests.filter { $0.path.hasPrefix("/v1/users?") }.count, 3, "pages of 500: 500, 500, 200")

        let second = try invoke()["production"]
        XCTAssertEqual(second?["users"]?["created"]?.doubleValue, 0)
        XCTAssertEqual(second?["users"]?["updated"]?.doubleValue, 0)
        XCTAssertEqual(second?["users"]?["unchanged"]?.doubleValue, 1198, "a second run changes nothing")
        XCTAssertEqual(try count("SELECT count(*) AS n FROM outbox WHERE queue = 'user-events'"), 1198)
    }

    func testANewerCopyInClerkUpdatesAndADryRunKeepsNothing() throws {
        standIn.addUser(id: "user_up", email: "new@example.com", updatedAt: 1_800_000_000_000)
        standIn.addUser(id: "user_new", email: "n@example.com")
        try db.query(
            "INSERT INTO users (clerk_user_id, environment, email, clerk_updated_at) VALUES ('user_up', 'production', 'old@example.com', to_timestamp(1700000000))"
        )
        let dry = try invoke(#"{"dryRun":true}"#)["production"]
        XCTAssertEqual(dry?["users"]?["created"]?.doubleValue, 1)
        XCTAssertEqual(dry?["users"]?["updated"]?.doubleValue, 1)
        XCTAssertEqual(try count("SELECT count(*) AS n FROM users"), 1, "a dry run keeps nothing")
        XCTAssertEqual(try count("SELECT count(*) AS n FROM users WHERE email = 'old@example.com'"), 1)
        let real = try invoke()["production"]
        XCTAssertEqual(real?["users"]?["updated"]?.doubleValue, 1)
        XCTAssertEqual(try count("SELECT count(*) AS n FROM users WHERE clerk_user_id = 'user_up' AND email = 'new@example.com'"), 1)
    }

    /// Killed after its first page, the CLI's next run resumes there and finishes without redoing it.
    func testAKilledRunResumesWithoutRedoingWork() throws {
        for i in 0..<1500 { standIn.addUser(id: "user_k\(i)", email: "k\(i)@example.com") }
        standIn.delayMs = 700
        let childEnv = quietChildEnvironment
        let afterKill = try killBackfill(once: "SELECT count(*) AS n FROM users", reaches: 500, environment: childEnv)
        XCTAssertTrue(afterKill == 500 || afterKill == 1000, "whole pages only: \(afterKill)")
        standIn.delayMs = 0
        let pagesBefore = standIn.requests.filter { $0.path.hasPrefix("/v1/users?") }.count
        let second = try Subprocess.run(path: BuiltProducts.clerkFunctions, arguments: ["backfill"], environment: childEnv)
        XCTAssertEqual(second.exit.code, 0, second.stderr.text)
        let summary = try JSONValue.parse(Array((second.stdout.text.split(separator: "\n").last ?? "").utf8))
        XCTAssertEqual(summary["users"]?["created"]?.doubleValue, 1500, "the saved counts carry over: \(second.stdout.text)")
        XCTAssertEqual(try count("SELECT count(*) AS n FROM users"), 1500)
        let offsets = standIn.requests.dropFirst(pagesBefore).compactMap { r -> Int? in
            guard let o = r.path.range(of: "offset=") else { return nil }
            return Int(r.path[o.upperBound...].prefix { $0.isNumber })
        }
        XCTAssertEqual(offsets.first, afterKill - 1, "the second run starts where the first stopped, on its last user")
        XCTAssertEqual(try count("SELECT count(*) AS n FROM outbox WHERE payload ->> 'type' = 'user.created'"), 1500, "no user twice")
    }

    /// Users Clerk deletes while a run is paused (before its position, and the last one it applied) make
    /// the next invocation skip nobody: resumed at the bare offset, it skipped one user per deletion.
    func testUsersDeletedWhileARunIsPausedMakeItSkipNobody() throws {
        for i in 0..<1200 { standIn.addUser(id: "user_d\(i)", email: "d\(i)@example.com") }
        // One page per invocation: the page takes 1.5 s and the function stops with 2 s left of its 3 s.
        standIn.delayMs = 1500
        let harness = LocalHarness(registry: Functions.registry, environment: Environment(env), logger: Logger(level: .error))
        let first = try JSONValue.parse(try harness.invoke("backfillClerk", event: Array("{}".utf8), timeoutMs: 3000))["production"]
        XCTAssertEqual(first?["complete"]?.boolValue, false)
        XCTAssertEqual(try count("SELECT count(*) AS n FROM users"), 500)
        for id in ["user_d10", "user_d20", "user_d499"] { standIn.removeUser(id: id) }
        standIn.delayMs = 0
        let second = try invoke()["production"]
        XCTAssertEqual(second?["complete"]?.boolValue, true)
        XCTAssertEqual(second?["users"]?["created"]?.doubleValue, 1200, "the saved counts carry over")
        let missing = try db.query(
            """
            SELECT count(*) AS n FROM generate_series(0, 1199) i
             WHERE NOT EXISTS (SELECT 1 FROM users WHERE clerk_user_id = 'user_d' || i)
            """
        ).first?.decode("n", as: Int.self)
        XCTAssertEqual(missing, 0, "user_d500...d502 moved under the saved offset and were skipped")
        XCTAssertEqual(try count("SELECT count(*) AS n FROM outbox WHERE payload ->> 'type' = 'user.created'"), 1200, "no user twice")
    }

    /// Organizations Clerk deletes while a run is stopped (the first one, and the last one applied) make the
    /// next run skip none, and it applies none twice.
    func testOrganizationsDeletedWhileARunIsStoppedMakeItSkipNone() throws {
        let childEnv = quietChildEnvironment
        let afterKill = try killedAmongFortyOrganizations(environment: childEnv)
        XCTAssertGreaterThanOrEqual(afterKill, 3)
        XCTAssertLessThan(afterKill, 38)
        standIn.removeOrganization(id: "org_k0")
        standIn.removeOrganization(id: "org_k\(afterKill - 1)")
        standIn.delayMs = 0
        let before = standIn.requests.count
        let second = try Subprocess.run(path: BuiltProducts.clerkFunctions, arguments: ["backfill", "--only", "organizations"], environment: childEnv)
        XCTAssertEqual(second.exit.code, 0, second.stderr.text)
        let missing = try db.query(
            """
            SELECT count(*) AS n FROM generate_series(0, 39) i
             WHERE NOT EXISTS (SELECT 1 FROM organizations WHERE clerk_org_id = 'org_k' || i)
            """
        ).first?.decode("n", as: Int.self)
        XCTAssertEqual(missing, 0, "the two organizations after the saved offset were skipped")
        let memberCalls = standIn.requests.dropFirst(before).filter { $0.path.contains("/memberships?") }.count
        XCTAssertEqual(memberCalls, 40 - afterKill, "no organization twice")
        XCTAssertEqual(try count("SELECT count(*) AS n FROM outbox WHERE payload ->> 'type' = 'organization.created'"), 40)
    }

    /// Another process finishes the pass while this one is among the users: this one stops, instead of
    /// opening the next pass and saving its own position there (which started that pass midway).
    func testARunFinishedByAnotherProcessIsNotCarriedIntoTheNextPass() throws {
        for i in 0..<30 { standIn.addUser(id: "user_f\(i)", email: "f\(i)@example.com") }
        let api = try XCTUnwrap(try ClerkAPIConfig(environment: Environment(env)).client(for: "production"))
        var backfill = Backfill(api: api, connection: db, environment: "production", logger: Logger(level: .error))
        backfill.pageSize = 10
        let other = try TestDatabase.connect()
        var pages = 0
        let summary = try backfill.run(deadlineMs: Clock.nowMs() + 60_000) { line in
            guard line.hasPrefix("users:") else { return }
            pages += 1
            if pages == 1 { _ = try? other.query("UPDATE backfill_runs SET phase = 'done', finished_at = now() WHERE finished_at IS NULL") }
        }
        XCTAssertFalse(summary.complete)
        XCTAssertEqual(try count("SELECT count(*) AS n FROM backfill_runs WHERE finished_at IS NULL"), 0, "no pass opened midway")
    }

    func testOrganizationsAndMembershipsFollowTheWebhookRules() throws {
        standIn.addUser(id: "user_o1", email: "o1@example.com")
        // 1203 organizations: three pages of 500; the first has 620 members (two membership pages).
        let big = (0..<620).map { ("orgmem_big\($0)", $0 == 0 ? "user_o1" : "user_later\($0)", $0 == 0 ? "org:admin" : "org:member") }
        standIn.addOrganization(id: "org_big", name: "Big", slug: "big", members: big)
        for i in 1..<1203 {
            standIn.addOrganization(id: "org_o\(i)", name: "Org \(i)", slug: "org-\(i)", members: [("orgmem_o\(i)", "user_o1", "org:member")])
        }
        // Local: org_o1 newer than Clerk's copy, org_o2 deleted (a tombstone with its membership), one Clerk no longer has.
        try db.query(
            """
            INSERT INTO organizations (clerk_org_id, environment, name, clerk_updated_at, deleted_at) VALUES
              ('org_o1', 'production', 'Newer', to_timestamp(1900000000), NULL),
              ('org_o2', 'production', NULL, to_timestamp(1735732800), now()),
              ('org_gone', 'production', 'Gone', to_timestamp(1735732800), NULL)
            """)
        let first = try invoke()["production"]
        XCTAssertEqual(first?["users"]?["created"]?.doubleValue, 1)
        XCTAssertEqual(first?["organizations"]?["created"]?.doubleValue, 1201)
        XCTAssertEqual(first?["organizations"]?["stale"]?.doubleValue, 2)
        XCTAssertEqual(first?["memberships"]?["created"]?.doubleValue, 620 + 1201)
        XCTAssertEqual(first?["memberships"]?["stale"]?.doubleValue, 1, "a deleted organization takes no members")
        XCTAssertEqual(first?["missingInClerk"]?.doubleValue, 1, "org_gone is reported, not deleted")
        XCTAssertEqual(first?["complete"]?.boolValue, true)
        XCTAssertEqual(try count("SELECT count(*) AS n FROM organizations WHERE clerk_org_id = 'org_o1' AND name = 'Newer'"), 1)
        XCTAssertEqual(
            try count("SELECT count(*) AS n FROM organizations WHERE clerk_org_id = 'org_o2' AND deleted_at IS NOT NULL AND name IS NULL"), 1)
        XCTAssertEqual(
            try count(
                "SELECT count(*) AS n FROM organizations WHERE clerk_org_id = 'org_o7' AND name = 'Org 7' AND raw_payload ->> 'id' = 'org_o7' AND public_metadata ->> 'plan' = 'team'"
            ), 1)
        XCTAssertEqual(
            try count("SELECT count(*) AS n FROM organization_memberships WHERE clerk_org_id = 'org_big' AND organization_id IS NOT NULL"), 620)
        XCTAssertEqual(
            try count(
                "SELECT count(*) AS n FROM organization_memberships m JOIN users u ON u.id = m.user_id WHERE u.clerk_user_id = 'user_o1' AND m.deleted_at IS NULL"
            ), 1 + 1201)
        XCTAssertEqual(
            try count(
                "SELECT count(*) AS n FROM organization_memberships WHERE clerk_membership_id = 'orgmem_big1' AND user_id IS NULL AND permissions = '{org:sys_profile:read}'"
            ), 1,
            "a member whose user has not arrived waits, unlinked")
        XCTAssertEqual(try count("SELECT count(*) AS n FROM outbox WHERE queue = 'organization-events'"), 1201 + 620 + 1201)
        XCTAssertEqual(standIn.requests.filter { $0.path.hasPrefix("/v1/organizations?") }.count, 3, "pages of 500")
        XCTAssertEqual(standIn.requests.filter { $0.path.hasPrefix("/v1/organizations/org_big/memberships?") }.count, 2)

        // The user arrives later (a webhook): its waiting membership is linked.
        let bf = try PostgresConnection(url: TestDatabase.url)
        _ = try UserStore(connection: bf).findOrCreate(clerkUserId: "user_later1", environment: "production")
        XCTAssertEqual(
            try count("SELECT count(*) AS n FROM organization_memberships WHERE clerk_membership_id = 'orgmem_big1' AND user_id IS NOT NULL"), 1)

        let second = try invoke()["production"]
        XCTAssertEqual(second?["organizations"]?["created"]?.doubleValue, 0)
        XCTAssertEqual(second?["organizations"]?["updated"]?.doubleValue, 0)
        XCTAssertEqual(second?["organizations"]?["unchanged"]?.doubleValue, 1201, "a second run changes nothing")
        XCTAssertEqual(second?["memberships"]?["unchanged"]?.doubleValue, 620 + 1201)
        XCTAssertEqual(try count("SELECT count(*) AS n FROM outbox WHERE queue = 'organization-events'"), 1201 + 620 + 1201)
    }

    func testOnlyOrganizationsSkipsTheUsersAndOnlyUsersSkipsTheOrganizations() throws {
        standIn.addUser(id: "user_a", email: "a@example.com")
        standIn.addOrganization(id: "org_a", name: "A", slug: "a", members: [("orgmem_a", "user_a", "org:admin")])
        let orgs = try invoke(#"{"only":"organizations"}"#)["production"]
        XCTAssertEqual(orgs?["organizations"]?["created"]?.doubleValue, 1)
        XCTAssertEqual(orgs?["users"]?["created"]?.doubleValue, 0)
        XCTAssertEqual(try count("SELECT count(*) AS n FROM users"), 0)
        XCTAssertEqual(try count("SELECT count(*) AS n FROM organization_memberships WHERE user_id IS NULL"), 1)
        let users = try invoke(#"{"only":"users"}"#)["production"]
        XCTAssertEqual(users?["users"]?["created"]?.doubleValue, 1)
        XCTAssertEqual(users?["organizations"]?["created"]?.doubleValue, 0)
        XCTAssertEqual(try count("SELECT count(*) AS n FROM organization_memberships WHERE user_id IS NOT NULL"), 1, "linked on the user's insert")
        XCTAssertEqual(standIn.requests.filter { $0.path.hasPrefix("/v1/organizations") }.count, 2, "only the first run asked for organizations")
        let dry = try invoke(#"{"only":"organizations","dryRun":true}"#)["production"]
        XCTAssertEqual(dry?["organizations"]?["unchanged"]?.doubleValue, 1)
        XCTAssertThrowsError(try invoke(#"{"only":"teams"}"#))
    }

    /// Killed during the organizations, the CLI's next run resumes at the next organization.
    func testAKilledRunResumesAtTheNextOrganization() throws {
        let childEnv = quietChildEnvironment
        let afterKill = try killedAmongFortyOrganizations(environment: childEnv)
        XCTAssertEqual(try count("SELECT count(*) AS n FROM organization_memberships"), afterKill, "an organization and its members together")
        XCTAssertLessThan(afterKill, 40)
        standIn.delayMs = 0
        let before = standIn.requests.count
        let second = try Subprocess.run(path: BuiltProducts.clerkFunctions, arguments: ["backfill", "--only", "organizations"], environment: childEnv)
        XCTAssertEqual(second.exit.code, 0, second.stderr.text)
        let summary = try JSONValue.parse(Array((second.stdout.text.split(separator: "\n").last ?? "").utf8))
        XCTAssertEqual(summary["organizations"]?["created"]?.doubleValue, 40, "the saved counts carry over: \(second.stdout.text)")
        XCTAssertEqual(summary["memberships"]?["created"]?.doubleValue, 40)
        let memberCalls = standIn.requests.dropFirst(before).filter { $0.path.contains("/memberships?") }.count
        XCTAssertEqual(memberCalls, 40 - afterKill, "no organization twice")
        XCTAssertEqual(try count("SELECT count(*) AS n FROM outbox WHERE payload ->> 'type' = 'organization.created'"), 40)
    }

    /// An organization with more members than one invocation can list: the stand-in holds each page of its
    /// members until the invocation has no time left for another request, so each invocation lists one page.
    /// Listed from its first member on every invocation and applied only once all were listed, the
    /// organization stopped every run there for good; now each page is applied with the organization's
    /// memberships position, and the next invocation resumes inside the organization.
    func testAnOrganizationWithMoreMembersThanOneInvocationCanListCompletesOverSeveral() throws {
        standIn.addOrganization(
            id: "org_many", name: "Many", slug: "many", members: (0..<10).map { ("orgmem_many\($0)", "user_many\($0)", "org:member") })
        standIn.addOrganization(id: "org_next", name: "Next", slug: "next", members: [("orgmem_next", "user_next", "org:member")])
        let stopAt = holdingEachMemberPageUntilTheInvocationMustStop()
        var invocations = 0
        var last: BackfillSummary?
        while last?.complete != true && invocations < 20 {
            invocations += 1
            last = try organizationsBackfillWithOneMemberPage(stopAt)
        }
        let summary = try XCTUnwrap(last)
        XCTAssertTrue(summary.complete, "not complete after \(invocations) invocations: \(summary.json)")
        // Ten members in pages of three (each page re-reads the last member applied): five pages, one per invocation.
        XCTAssertGreaterThanOrEqual(invocations, 5, "one page of members per invocation")
        XCTAssertEqual(summary.organizations.created, 2, summary.json)
        XCTAssertEqual(summary.memberships.created, 11, summary.json)
        XCTAssertEqual(summary.memberships.updated + summary.memberships.stale + summary.memberships.skipped, 0, summary.json)
        XCTAssertEqual(try count("SELECT count(*) AS n FROM organization_memberships WHERE organization_id IS NOT NULL"), 11)
        XCTAssertEqual(
            try count("SELECT count(*) AS n FROM outbox WHERE payload ->> 'type' = 'organizationMembership.created'"), 11,
            "every membership applied once")
        XCTAssertEqual(try count("SELECT count(*) AS n FROM outbox WHERE payload ->> 'type' = 'organization.created'"), 2)
        let firstPages = standIn.requests.filter { $0.path.hasPrefix("/v1/organizations/org_many/memberships?") && $0.path.contains("offset=0&") }
        XCTAssertEqual(firstPages.count, 1, "resumed inside the organization, never from its first member again")
    }

    /// A run stopped inside an organization that Clerk then deletes: the next organization is listed from its
    /// first member, not from the deleted one's position.
    func testAPositionInsideAnOrganizationClerkDeletedIsNotCarriedToTheNext() throws {
        standIn.addOrganization(
            id: "org_gone", name: "Gone", slug: "gone", members: (0..<10).map { ("orgmem_gone\($0)", "user_gone\($0)", "org:member") })
        standIn.addOrganization(
            id: "org_next", name: "Next", slug: "next", members: (0..<5).map { ("orgmem_next\($0)", "user_next\($0)", "org:member") })
        let stopped = try organizationsBackfillWithOneMemberPage(holdingEachMemberPageUntilTheInvocationMustStop())
        XCTAssertFalse(stopped.complete)
        XCTAssertEqual(try count("SELECT count(*) AS n FROM backfill_runs WHERE member_org_id = 'org_gone' AND member_anchor_id = 'orgmem_gone2'"), 1)
        standIn.beforeAnswer = nil
        standIn.removeOrganization(id: "org_gone")
        let summary = try organizationsBackfill(pageSize: 3)
        XCTAssertTrue(summary.complete)
        XCTAssertEqual(
            try count("SELECT count(*) AS n FROM organization_memberships WHERE clerk_org_id = 'org_next' AND organization_id IS NOT NULL"), 5)
        XCTAssertEqual(try count("SELECT count(*) AS n FROM backfill_runs WHERE member_org_id IS NOT NULL"), 0)
    }

    /// When the current invocation must stop (`organizationsBackfillWithOneMemberPage` sets it).
    final class StopAt: @unchecked Sendable { var ms: Int64 = 0 }

    /// Makes the stand-in hold each page of members until the invocation has no time left for another request.
    func holdingEachMemberPageUntilTheInvocationMustStop() -> StopAt {
        let stopAt = StopAt()
        standIn.beforeAnswer = { path in
            guard path.contains("/memberships?") else { return }
            while Clock.nowMs() <= stopAt.ms { usleep(10_000) }
        }
        return stopAt
    }

    /// One invocation of the organizations (pages of three) with time for one page of members under `stopAt`'s
    /// hold: time for another request while less than a second of its two has gone (the reserve is one).
    func organizationsBackfillWithOneMemberPage(_ stopAt: StopAt) throws -> BackfillSummary {
        let api = try XCTUnwrap(try ClerkAPIConfig(environment: Environment(env)).client(for: "production"))
        var backfill = Backfill(api: api, connection: db, environment: "production", logger: Logger(level: .error))
        backfill.pageSize = 3
        let deadline = Clock.nowMs() + 2000
        stopAt.ms = deadline - 1000
        return try backfill.run(only: [.organizations], deadlineMs: deadline, reserveMs: 1000)
    }

    /// Backfills at once (a schedule and a person, or an invocation retried while the first still runs), in
    /// three processes held together twice: at their first page of users (the test holds every user-link
    /// bucket lock, which a page of users takes up front, sorted), and at the first page of members of an
    /// organization with three pages of them (the test holds that organization's lock), each gate let go once
    /// all three wait at it. What the bucket locks guarantee: pages that create the same users, side by side,
    /// take turns instead of waiting on each other for good. Taken shared (or one by one in page order, by
    /// each new user's trigger), two pages of the same new users each held a bucket the other's trigger
    /// needed, and PostgreSQL aborted one of them (40P01): a failed run. The rest ("no user twice", "no
    /// membership twice") the unique indexes hold on their own.
    func testTwoBackfillProcessesAtOnce() throws {
        for i in 0..<2000 { standIn.addUser(id: "user_p\(i)", email: "p\(i)@example.com") }
        for o in 0..<60 {
            let members = (0..<20).map { m in ("orgmem_p\(o)_\(m)", "user_p\((o * 37 + m * 29) % 2000)", "org:member") }
            standIn.addOrganization(id: "org_p\(o)", name: "P\(o)", slug: "p\(o)", members: members)
        }
        // And one of three pages of members, applied a page per transaction by each run; listed last.
        standIn.addOrganization(
            id: "org_pbig", name: "PBig", slug: "pbig",
            members: (0..<1100).map { m in ("orgmem_pbig_\(m)", "user_p\((m * 7) % 2000)", "org:member") })
        let userBuckets = try LockGate(["SELECT count(pg_advisory_xact_lock(1869768552, b)) AS n FROM generate_series(0, 127) b"])
        let bigOrganization = try LockGate(["SELECT clerk_org_lock('organization', 'production', 'org_pbig')"])
        let runs = (0..<3).map { _ in ChildProcess(["backfill"], environment: quietChildEnvironment) }

        let atUsers = try userBuckets.waitForWaiters(runs.count) { runs.contains(where: \.isFinished) }
        XCTAssertEqual(atUsers.count, runs.count, "every run holds its first page of users before any applies it: \(atUsers)")
        XCTAssertEqual(try count("SELECT count(*) AS n FROM users"), 0)
        try userBuckets.release()
        let atMembers = try bigOrganization.waitForWaiters(runs.count) { runs.contains(where: \.isFinished) }
        XCTAssertEqual(atMembers.count, runs.count, "every run holds org_pbig's first page of members before any applies it: \(atMembers)")
        XCTAssertEqual(try count("SELECT count(*) AS n FROM organization_memberships WHERE clerk_org_id = 'org_pbig'"), 0)
        try bigOrganization.release()

        var created = (users: 0.0, organizations: 0.0, memberships: 0.0)
        for run in runs {
            let r = try run.result()
            XCTAssertEqual(r.exit.code, 0, r.stderr.text)
            XCTAssertFalse(r.stderr.text.contains("40P01"), "no deadlock: \(r.stderr.text)")
            let summary = try JSONValue.parse(Array((r.stdout.text.split(separator: "\n").last ?? "").utf8))
            XCTAssertEqual(summary["complete"]?.boolValue, true, r.stdout.text)
            XCTAssertEqual(summary["users"]?["skipped"]?.doubleValue, 0, r.stdout.text)
            created.users += try XCTUnwrap(summary["users"]?["created"]?.doubleValue, r.stdout.text)
            created.organizations += try XCTUnwrap(summary["organizations"]?["created"]?.doubleValue, r.stdout.text)
            created.memberships += try XCTUnwrap(summary["memberships"]?["created"]?.doubleValue, r.stdout.text)
        }
        // Each run counts what it created itself: together, everything, once.
        XCTAssertEqual(created.users, 2000)
        XCTAssertEqual(created.organizations, 61)
        XCTAssertEqual(created.memberships, 1200 + 1100)
        XCTAssertEqual(try count("SELECT count(*) AS n FROM users"), 2000)
        XCTAssertEqual(try count("SELECT count(*) AS n FROM outbox WHERE payload ->> 'type' = 'user.created'"), 2000, "no user twice")
        XCTAssertEqual(try count("SELECT count(*) AS n FROM organizations"), 61)
        XCTAssertEqual(try count("SELECT count(*) AS n FROM organization_memberships"), 1200 + 1100)
        XCTAssertEqual(
            try count("SELECT count(*) AS n FROM outbox WHERE payload ->> 'type' = 'organizationMembership.created'"), 1200 + 1100,
            "no membership twice")
        XCTAssertEqual(
            try count("SELECT count(*) AS n FROM organization_memberships WHERE user_id IS NULL OR organization_id IS NULL"), 0,
            "every membership linked")
        XCTAssertEqual(try count("SELECT count(*) AS n FROM backfill_runs WHERE finished_at IS NULL"), 0, "the pass is closed")
    }

    /// The backfills of both environments at once, held together at the first page of members of one organization
    /// (the test holds its lock in each environment). The user-link buckets are shared by the environments (the
    /// lock key is the bucket alone), and a page of 500 members covers nearly all of them: each page takes its
    /// buckets up front, sorted, so one waits for the other. Taken shared, both held every bucket and each
    /// member's own lock then waited for the other's hold, for good (40P01), whichever organizations they were in.
    func testBackfillsOfBothEnvironmentsAtOnce() throws {
        for i in 0..<600 { standIn.addUser(id: "user_e\(i)", email: "e\(i)@example.com") }
        standIn.addOrganization(
            id: "org_ebig", name: "EBig", slug: "ebig",
            members: (0..<600).map { m in ("orgmem_ebig_\(m)", "user_e\((m * 7) % 600)", "org:member") })
        let environments = ["production", "development"]
        let gate = try LockGate(environments.map { "SELECT clerk_org_lock('organization', '\($0)', 'org_ebig')" })
        let runs = environments.map { environment in
            var childEnv = quietChildEnvironment
            childEnv["CLERK_ENVIRONMENT"] = environment
            return ChildProcess(["backfill"], environment: childEnv)
        }
        let waiting = try gate.waitForWaiters(runs.count) { runs.contains(where: \.isFinished) }
        XCTAssertEqual(waiting.count, runs.count, "both runs hold org_ebig's first page of members before either applies it: \(waiting)")
        try gate.release()
        for run in runs {
            let r = try run.result()
            XCTAssertEqual(r.exit.code, 0, r.stderr.text)
            XCTAssertFalse(r.stderr.text.contains("40P01"), "no deadlock: \(r.stderr.text)")
            let summary = try JSONValue.parse(Array((r.stdout.text.split(separator: "\n").last ?? "").utf8))
            XCTAssertEqual(summary["complete"]?.boolValue, true, r.stdout.text)
            XCTAssertEqual(summary["users"]?["created"]?.doubleValue, 600, r.stdout.text)
            XCTAssertEqual(summary["memberships"]?["created"]?.doubleValue, 600, r.stdout.text)
        }
        for environment in environments {
            XCTAssertEqual(try count("SELECT count(*) AS n FROM users WHERE environment = '\(environment)'"), 600)
            XCTAssertEqual(
                try count(
                    """
                    SELECT count(*) AS n FROM organization_memberships
                     WHERE environment = '\(environment)' AND user_id IS NOT NULL AND organization_id IS NOT NULL
                    """), 600, "\(environment): every membership, linked")
        }
    }

    /// A backfill of the organizations alone, pages of `pageSize`, run in this process.
    func organizationsBackfill(pageSize: Int) throws -> BackfillSummary {
        let api = try XCTUnwrap(try ClerkAPIConfig(environment: Environment(env)).client(for: "production"))
        var backfill = Backfill(api: api, connection: db, environment: "production", logger: Logger(level: .error))
        backfill.pageSize = pageSize
        return try backfill.run(only: [.organizations], deadlineMs: Clock.nowMs() + 120_000)
    }

    /// A membership Clerk deletes between two pages of one organization's members: paged by a bare offset,
    /// the member after it moved back under the next offset and was skipped, on every run.
    func testAMembershipDeletedBetweenTwoPagesIsNotSkipped() throws {
        standIn.addOrganization(id: "org_p", name: "P", slug: "p", members: (0..<10).map { ("orgmem_p\($0)", "user_p\($0)", "org:member") })
        let pages = RequestCounter()
        standIn.beforeAnswer = { [weak standIn] path in
            // Between the first page and the second, one member from each end leaves: whichever end the list
            // is read from, one of them was on the first page.
            guard path.contains("/memberships?"), pages.next() == 2 else { return }
            standIn?.removeMembership(id: "orgmem_p1")
            standIn?.removeMembership(id: "orgmem_p8")
        }
        let summary = try organizationsBackfill(pageSize: 3)
        XCTAssertTrue(summary.complete)
        let missing = try db.query(
            """
            SELECT string_agg(i::text, ',') AS missing FROM generate_series(0, 9) i
             WHERE i NOT IN (1, 8) AND NOT EXISTS (SELECT 1 FROM organization_memberships WHERE clerk_membership_id = 'orgmem_p' || i)
            """
        ).first?.decodeIfPresent("missing", as: String.self)
        XCTAssertNil(missing, "members that stayed in Clerk were skipped")
        XCTAssertTrue(
            standIn.requests.filter { $0.path.contains("/memberships?") }.allSatisfy { $0.path.contains("order_by=%2Bcreated_at") },
            "members are read oldest first, a stable order")
    }

    /// An answer that ignores `offset` (the first page every time): the organization's members cannot be
    /// listed, so the run stops with `BackfillListUnsettled` after a bounded number of requests instead of
    /// applying the first page again and again (or asking until the deadline). The first page, read before
    /// the list showed it does not move, is applied (members are applied a page at a time); the run's position
    /// stays inside the organization, so the next run resumes there and nothing after it is taken as listed.
    func testAMembershipListThatIgnoresTheOffsetStopsInBoundedRequests() throws {
        standIn.addOrganization(id: "org_i", name: "I", slug: "i", members: (0..<10).map { ("orgmem_i\($0)", "user_i\($0)", "org:member") })
        standIn.ignoresOffset = true
        XCTAssertThrowsError(try organizationsBackfill(pageSize: 3)) { error in
            XCTAssertTrue(error is BackfillListUnsettled, "\(error)")
        }
        XCTAssertLessThan(standIn.requests.filter { $0.path.contains("/memberships?") }.count, 30, "bounded")
        XCTAssertEqual(try count("SELECT count(*) AS n FROM organization_memberships"), 3, "its first page only")
        XCTAssertEqual(
            try count(
                """
                SELECT count(*) AS n FROM backfill_runs
                 WHERE finished_at IS NULL AND org_anchor_id IS NULL AND member_org_id = 'org_i' AND member_anchor_id = 'orgmem_i2'
                """), 1, "the organization waits, its position inside it, for a list that settles")
    }

    /// The same when the members share one `created_at` (an import): the cursor cannot tell them apart by time,
    /// and the walk stops when its reads keep offering only what they offered already.
    func testAMembershipListOfOneMillisecondThatIgnoresTheOffsetStops() throws {
        standIn.addRawOrganization(
            json: ClerkAPIStandIn.organizationJSON(id: "org_t", name: "T", slug: "t", createdAt: 1_735_732_800_000),
            id: "org_t", createdAt: 1_735_732_800_000)
        for i in 0..<10 {
            standIn.addRawMembership(
                organizationId: "org_t", id: "orgmem_t\(i)", createdAt: 1_735_732_800_000,
                json: ClerkAPIStandIn.membershipJSON(
                    id: "orgmem_t\(i)", userId: "user_t\(i)", role: "org:member", organization: #"{"id":"org_t"}"#, createdAt: 1_735_732_800_000))
        }
        standIn.ignoresOffset = true
        XCTAssertThrowsError(try organizationsBackfill(pageSize: 3)) { error in
            XCTAssertTrue(error is BackfillListUnsettled, "\(error)")
        }
        XCTAssertLessThan(standIn.requests.filter { $0.path.contains("/memberships?") }.count, 60, "bounded")
    }

    /// Names any Clerk user or org admin may type: the literal text `\u0000"` (an escaped backslash before
    /// `u0000` in the JSON), and a real NUL. Both are stored, nothing fails on every run.
    func testHostileNamesAreStoredNotFatal() throws {
        standIn.addUser(id: "user_literal", email: "l@example.com", firstName: #"\u0000""#)
        standIn.addUser(id: "user_nul", email: "n@example.com", firstName: "A\u{0}da")
        standIn.addOrganization(id: "org_literal", name: #"\u0000""#, slug: "literal", members: [])
        standIn.addOrganization(id: "org_next", name: "Next", slug: "next", members: [])
        let summary = try invoke()
        XCTAssertEqual(summary["production"]?["users"]?["created"]?.doubleValue, 2, summary.serialized())
        XCTAssertEqual(summary["production"]?["organizations"]?["created"]?.doubleValue, 2, summary.serialized())
        XCTAssertEqual(
            try db.query("SELECT first_name FROM users WHERE clerk_user_id = 'user_literal'").first?
                .decode("first_name", as: String.self), #"\u0000""#, "text, kept as typed")
        XCTAssertEqual(
            try db.query("SELECT first_name FROM users WHERE clerk_user_id = 'user_nul'").first?
                .decode("first_name", as: String.self), "Ada", "NUL removed")
        XCTAssertEqual(
            try db.query("SELECT name FROM organizations WHERE clerk_org_id = 'org_literal'").first?
                .decode("name", as: String.self), #"\u0000""#)
    }

    func testAWrongSecretOrNoSecretIsAClearError() throws {
        var bad = env
        bad["CLERK_SECRET_KEY"] = "sk_wrong"
        let harness = LocalHarness(registry: Functions.registry, environment: Environment(bad), logger: Logger(level: .critical))
        XCTAssertThrowsError(try harness.invoke("backfillClerk", event: Array("{}".utf8))) { error in
            XCTAssertTrue("\(error)".contains("secret key"), "\(error)")
            XCTAssertFalse("\(error)".contains("sk_wrong"))
        }
        var none = env
        none["CLERK_SECRET_KEY"] = nil
        let h2 = LocalHarness(registry: Functions.registry, environment: Environment(none), logger: Logger(level: .critical))
        XCTAssertThrowsError(try h2.invoke("backfillClerk", event: Array("{}".utf8))) { error in
            XCTAssertTrue("\(error)".contains("CLERK_SECRET_KEY"), "\(error)")
        }
    }
}

/// Counts calls from the stand-in's threads.
final class RequestCounter: @unchecked Sendable {
    private let lock = ConditionLock()
    private var n = 0

    /// The number of this call, from 1.
    func next() -> Int {
        lock.withLock {
            n += 1
            return n
        }
    }
}
