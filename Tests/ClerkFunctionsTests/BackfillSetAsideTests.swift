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

/// One bad item in a Backend API page never stops a backfill: Clerk's item that is not the documented shape
/// (a member named twice, a field of the wrong type, no id) or that PostgreSQL refuses as data (class 22) is
/// set aside (counted as `skipped`, logged by id and reason without its body, kept in `queue_rejects`), the
/// rest of its page is applied, and the run completes; a second run changes nothing.
final class BackfillSetAsideTests: XCTestCase {
    var db: PostgresConnection!
    var standIn: ClerkAPIStandIn!
    var logPath = ""

    /// In every hostile body, never in a log line.
    static let marker = "body-marker-7f3a"
    /// Milliseconds PostgreSQL's timestamps cannot hold (year ~3 million): `timestamp out of range`, 22008.
    static let farFuture: Int64 = 100_000_000_000_000_000
    static let t0: Int64 = 1_735_000_000_000

    override func setUpWithError() throws {
        db = try TestDatabase.connect()
        try TestDatabase.reset(db)
        try db.query("TRUNCATE backfill_runs, queue_rejects CASCADE")
        standIn = try ClerkAPIStandIn()
        logPath = "/tmp/clerk-backfill-log-\(getpid())-\(Clock.monotonicNs())"
        // There from the start: an unreadable log fails a test (see `logText`), an empty one is nothing logged.
        let fd = open(logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        XCTAssertGreaterThanOrEqual(fd, 0, "the log file \(logPath)")
        close(fd)
    }

    override func tearDown() {
        unlink(logPath)
        db = nil
        standIn = nil
    }

    /// A backfill of `only`, pages of `pageSize`, logging into `logPath`; the summary as its JSON line.
    func backfill(_ only: Set<Backfill.Kind>, pageSize: Int = 3) throws -> JSONValue {
        let env = ["CLERK_API_URL": standIn.baseURL, "CLERK_SECRET_KEY": standIn.secretKey, "CLERK_ENVIRONMENT": "production"]
        let api = try XCTUnwrap(try ClerkAPIConfig(environment: Environment(env)).client(for: "production"))
        let fd = open(logPath, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        defer { close(fd) }
        var backfill = Backfill(api: api, connection: db, environment: "production", logger: Logger(level: .info, fd: fd))
        backfill.pageSize = pageSize
        let summary = try backfill.run(only: only, deadlineMs: Clock.nowMs() + 120_000)
        return try JSONValue.parse(Array(summary.json.utf8))
    }

    var logs: String { logText(logPath) }

    func count(_ sql: String) throws -> Int { try db.query(sql).first?.decode("n", as: Int.self) ?? -1 }

    func keptIds() throws -> [String] {
        try db.query("SELECT message_id FROM queue_rejects WHERE source = 'backfill' ORDER BY message_id COLLATE \"C\"").map {
            try $0.decode("message_id", as: String.self)
        }
    }

    /// UserJSON of `id` (none when nil) created at `created`, with `first_name`'s JSON and `unsafe_metadata`'s.
    static func userJSON(id: String?, created: Int64, firstName: String = #""Eve \#(marker)""#, unsafeMetadata: String = "{}") -> String {
        let idMember = id.map { #""id":"\#($0)","# } ?? ""
        return
            #"{\#(idMember)"object":"user","username":null,"first_name":\#(firstName),"last_name":null,"image_url":"https://img.clerk.com/x","primary_email_address_id":null,"email_addresses":[],"public_metadata":{},"private_metadata":{},"unsafe_metadata":\#(unsafeMetadata),"created_at":\#(created),"updated_at":1735732800158}"#
    }

    /// Ten good users with four bad ones among them (pages of three: two bad ones end a page, so the cursor
    /// anchors on them): a member named twice in `unsafe_metadata`, a `first_name` that is a number, no `id`,
    /// and a `created_at` PostgreSQL refuses (listed last, as Clerk orders by it).
    func testOneBadUserNeverStopsTheBackfill() throws {
        for i in 0..<10 {
            standIn.addRawUser(
                json: Self.userJSON(id: "user_g\(i)", created: Self.t0 + Int64(i) * 10, firstName: #""G\#(i)""#),
                id: "user_g\(i)", createdAt: Self.t0 + Int64(i) * 10)
        }
        standIn.addRawUser(
            json: Self.userJSON(id: "user_dup", created: Self.t0 + 15, unsafeMetadata: #"{"role":"user","role":"admin"}"#),
            id: "user_dup", createdAt: Self.t0 + 15)
        standIn.addRawUser(
            json: Self.userJSON(id: "user_wrong", created: Self.t0 + 45, firstName: "42", unsafeMetadata: #"{"note":"\#(Self.marker)"}"#),
            id: "user_wrong", createdAt: Self.t0 + 45)
        standIn.addRawUser(json: Self.userJSON(id: nil, created: Self.t0 + 65), id: nil, createdAt: Self.t0 + 65)
        standIn.addRawUser(json: Self.userJSON(id: "user_far", created: Self.farFuture), id: "user_far", createdAt: Self.farFuture)
        // A local copy of a user Clerk lists but the run skips: Clerk has it, so it is not "missing in Clerk".
        try db.query("INSERT INTO users (clerk_user_id, environment, email) VALUES ('user_dup', 'production', 'dup@example.com')")

        let first = try backfill([.users])
        XCTAssertEqual(first["complete"]?.boolValue, true, first.serialized())
        XCTAssertEqual(first["users"]?["created"]?.doubleValue, 10, first.serialized())
        XCTAssertEqual(first["users"]?["skipped"]?.doubleValue, 4, first.serialized())
        XCTAssertEqual(first["missingInClerk"]?.doubleValue, 0, "a skipped user is not missing in Clerk")
        XCTAssertEqual(try count("SELECT count(*) AS n FROM users WHERE clerk_user_id LIKE 'user_g%'"), 10)
        XCTAssertEqual(try count("SELECT count(*) AS n FROM users WHERE clerk_user_id IN ('user_wrong', 'user_far')"), 0)
        XCTAssertEqual(try keptIds(), ["production/user", "production/user/user_dup", "production/user/user_far", "production/user/user_wrong"])
        XCTAssertEqual(
            try count("SELECT count(*) AS n FROM queue_rejects WHERE message_id = 'production/user/user_far' AND reason LIKE 'data_error 22%'"), 1)
        XCTAssertEqual(
            try count(
                "SELECT count(*) AS n FROM queue_rejects WHERE message_id = 'production/user/user_wrong' AND reason LIKE 'undecodable: %first_name%' AND body LIKE '%\(Self.marker)%'"
            ), 1,
            "the body is kept for a person")
        XCTAssertTrue(logs.contains("user_dup") && logs.contains("user_wrong") && logs.contains("user_far"), logs)
        XCTAssertTrue(logs.contains("missing_id") && logs.contains("data_error") && logs.contains("undecodable"), logs)
        XCTAssertTrue(logs.contains("expected String at first_name") && logs.contains("a member named twice"), logs)
        XCTAssertFalse(logs.contains(Self.marker), "a body never reaches a log line")

        let outbox = try count("SELECT count(*) AS n FROM outbox")
        let second = try backfill([.users])
        XCTAssertEqual(second["complete"]?.boolValue, true, second.serialized())
        XCTAssertEqual(second["users"]?["created"]?.doubleValue, 0)
        XCTAssertEqual(second["users"]?["updated"]?.doubleValue, 0)
        XCTAssertEqual(second["users"]?["unchanged"]?.doubleValue, 10, "a second run changes nothing")
        XCTAssertEqual(second["users"]?["skipped"]?.doubleValue, 4)
        XCTAssertEqual(try count("SELECT count(*) AS n FROM queue_rejects"), 4, "each kept once")
        XCTAssertEqual(try count("SELECT count(*) AS n FROM outbox"), outbox)
    }

    /// The same through the function (pages of 500: all fourteen users in one statement).
    func testOneBadUserInAPageOfFiveHundred() throws {
        for i in 0..<10 { standIn.addUser(id: "user_h\(i)", email: "h\(i)@example.com") }
        standIn.addRawUser(json: Self.userJSON(id: "user_far", created: Self.farFuture), id: "user_far", createdAt: Self.farFuture)
        standIn.addRawUser(
            json: Self.userJSON(id: "user_dup", created: Self.t0, unsafeMetadata: #"{"a":1,"a":2}"#), id: "user_dup", createdAt: Self.t0)
        let first = try backfill([.users], pageSize: 500)
        XCTAssertEqual(first["users"]?["created"]?.doubleValue, 10, first.serialized())
        XCTAssertEqual(first["users"]?["skipped"]?.doubleValue, 2, first.serialized())
        XCTAssertEqual(first["complete"]?.boolValue, true)
    }

    /// The same bad user, seen by Clerk a little later on each run (`last_active_at` moves for any active
    /// user): kept once, its latest body, not one more copy of its personal data per run.
    func testABadUserIsKeptOnceAcrossRunsEvenWhenClerksCopyChanges() throws {
        for run in 0..<3 {
            standIn.removeUser(id: "user_busy")
            let json = Self.userJSON(id: "user_busy", created: Self.t0, unsafeMetadata: #"{"a":1,"a":2}"#)
                .replacingOccurrences(of: #""object":"user","#, with: #""object":"user","last_active_at":\#(Self.t0 + Int64(run) * 86_400_000),"#)
            standIn.addRawUser(json: json, id: "user_busy", createdAt: Self.t0)
            let summary = try backfill([.users])
            XCTAssertEqual(summary["users"]?["skipped"]?.doubleValue, 1, summary.serialized())
        }
        XCTAssertEqual(
            try count("SELECT count(*) AS n FROM queue_rejects WHERE message_id = 'production/user/user_busy'"), 1,
            "one copy per run of the same item")
        XCTAssertEqual(
            try count(
                "SELECT count(*) AS n FROM queue_rejects WHERE message_id = 'production/user/user_busy' AND body LIKE '%\"last_active_at\":\(Self.t0 + 2 * 86_400_000),%'"
            ), 1,
            "the latest body wins")
    }

    /// OrganizationJSON of `id` (none when nil) created at `created`, with `name`'s JSON and `public_metadata`'s.
    static func organizationJSON(id: String?, created: Int64, name: String = #""Org \#(marker)""#, metadata: String = "{}") -> String {
        let idMember = id.map { #""id":"\#($0)","# } ?? ""
        return
            #"{"object":"organization",\#(idMember)"name":\#(name),"slug":"s","image_url":"","has_image":false,"members_count":1,"public_metadata":\#(metadata),"private_metadata":{},"created_at":\#(created),"updated_at":1735732900000}"#
    }

    /// OrganizationMembershipJSON of `id` (none when nil) in `org`, created at `created`.
    static func membershipJSON(
        id: String?, org: String, user: String, created: Int64, role: String = #""org:member""#,
        metadata: String = #"{"note":"\#(marker)"}"#
    ) -> String {
        let idMember = id.map { #""id":"\#($0)","# } ?? ""
        return
            #"{"object":"organization_membership",\#(idMember)"role":\#(role),"permissions":[],"public_metadata":\#(metadata),"created_at":\#(created),"updated_at":1735732900000,"organization":{"id":"\#(org)"},"public_user_data":{"user_id":"\#(user)"}}"#
    }

    /// Five good organizations with four bad ones among them, and in one good organization four good
    /// memberships with four bad ones among them: the same four faults each time.
    func testOneBadOrganizationOrMembershipNeverStopsTheBackfill() throws {
        for i in 0..<5 {
            let id = "org_g\(i)"
            standIn.addRawOrganization(
                json: Self.organizationJSON(id: id, created: Self.t0 + Int64(i) * 10, name: #""G\#(i)""#),
                id: id, createdAt: Self.t0 + Int64(i) * 10)
            standIn.addRawMembership(
                organizationId: id, id: "orgmem_g\(i)", createdAt: Self.t0,
                json: Self.membershipJSON(id: "orgmem_g\(i)", org: id, user: "user_x", created: Self.t0, metadata: "{}"))
        }
        standIn.addRawOrganization(
            json: Self.organizationJSON(id: "org_dup", created: Self.t0 + 5, metadata: #"{"plan":"a","plan":"b"}"#),
            id: "org_dup", createdAt: Self.t0 + 5)
        standIn.addRawOrganization(
            json: Self.organizationJSON(id: "org_wrong", created: Self.t0 + 25, name: "42"), id: "org_wrong", createdAt: Self.t0 + 25)
        standIn.addRawOrganization(json: Self.organizationJSON(id: nil, created: Self.t0 + 35), id: nil, createdAt: Self.t0 + 35)
        standIn.addRawOrganization(json: Self.organizationJSON(id: "org_far", created: Self.farFuture), id: "org_far", createdAt: Self.farFuture)
        // The refused organizations that have an id still have their members listed and applied: they wait,
        // unlinked, as members of an organization that has not arrived yet.
        for org in ["org_dup", "org_wrong", "org_far"] {
            standIn.addRawMembership(
                organizationId: org, id: "orgmem_of_\(org)", createdAt: Self.t0,
                json: Self.membershipJSON(id: "orgmem_of_\(org)", org: org, user: "user_x", created: Self.t0, metadata: "{}"))
        }
        for i in 0..<3 {
            let created = Self.t0 + 100 + Int64(i) * 10
            standIn.addRawMembership(
                organizationId: "org_g2", id: "orgmem_m\(i)", createdAt: created,
                json: Self.membershipJSON(id: "orgmem_m\(i)", org: "org_g2", user: "user_m\(i)", created: created))
        }
        standIn.addRawMembership(
            organizationId: "org_g2", id: "orgmem_dup", createdAt: Self.t0 + 105,
            json: Self.membershipJSON(
                id: "orgmem_dup", org: "org_g2", user: "user_d", created: Self.t0 + 105, metadata: #"{"a":1,"a":1}"#))
        standIn.addRawMembership(
            organizationId: "org_g2", id: "orgmem_wrong", createdAt: Self.t0 + 115,
            json: Self.membershipJSON(
                id: "orgmem_wrong", org: "org_g2", user: "user_w", created: Self.t0 + 115, role: "5"))
        standIn.addRawMembership(
            organizationId: "org_g2", id: nil, createdAt: Self.t0 + 125,
            json: Self.membershipJSON(
                id: nil, org: "org_g2", user: "user_n", created: Self.t0 + 125))
        standIn.addRawMembership(
            organizationId: "org_g2", id: "orgmem_far", createdAt: Self.farFuture,
            json: Self.membershipJSON(
                id: "orgmem_far", org: "org_g2", user: "user_f", created: Self.farFuture))

        let first = try backfill([.organizations])
        XCTAssertEqual(first["complete"]?.boolValue, true, first.serialized())
        XCTAssertEqual(first["organizations"]?["created"]?.doubleValue, 5, first.serialized())
        XCTAssertEqual(first["organizations"]?["skipped"]?.doubleValue, 4, first.serialized())
        XCTAssertEqual(first["memberships"]?["created"]?.doubleValue, 5 + 3 + 3, first.serialized())
        XCTAssertEqual(first["memberships"]?["skipped"]?.doubleValue, 4, first.serialized())
        XCTAssertEqual(try count("SELECT count(*) AS n FROM organizations"), 5)
        XCTAssertEqual(
            try count("SELECT count(*) AS n FROM organization_memberships WHERE clerk_org_id = 'org_g2' AND organization_id IS NOT NULL"), 4)
        XCTAssertEqual(
            try count("SELECT count(*) AS n FROM organization_memberships WHERE clerk_membership_id LIKE 'orgmem_of_%' AND organization_id IS NULL"),
            3,
            "members of a skipped organization wait for it, unlinked")
        XCTAssertEqual(
            try keptIds(),
            [
                "production/membership", "production/membership/orgmem_dup", "production/membership/orgmem_far",
                "production/membership/orgmem_wrong", "production/organization", "production/organization/org_dup",
                "production/organization/org_far", "production/organization/org_wrong"
            ])
        XCTAssertEqual(try count("SELECT count(*) AS n FROM queue_rejects WHERE reason LIKE 'data_error 22%'"), 2)
        XCTAssertTrue(logs.contains("org_dup") && logs.contains("orgmem_wrong") && logs.contains("orgmem_far"), logs)
        XCTAssertFalse(logs.contains(Self.marker), "a body never reaches a log line")

        let outbox = try count("SELECT count(*) AS n FROM outbox")
        let second = try backfill([.organizations])
        XCTAssertEqual(second["complete"]?.boolValue, true, second.serialized())
        XCTAssertEqual(second["organizations"]?["unchanged"]?.doubleValue, 5, "a second run changes nothing")
        XCTAssertEqual(second["organizations"]?["skipped"]?.doubleValue, 4)
        XCTAssertEqual(second["memberships"]?["unchanged"]?.doubleValue, 11)
        XCTAssertEqual(second["memberships"]?["skipped"]?.doubleValue, 4)
        XCTAssertEqual(second["organizations"]?["created"]?.doubleValue, 0)
        XCTAssertEqual(second["memberships"]?["created"]?.doubleValue, 0)
        XCTAssertEqual(try count("SELECT count(*) AS n FROM queue_rejects"), 8, "each kept once")
        XCTAssertEqual(try count("SELECT count(*) AS n FROM outbox"), outbox)
    }

    /// A page that is not the documented shape at all is Clerk's outage, not one item: the run stops there.
    func testAPageThatIsNotAListStillStopsTheRun() throws {
        standIn.addRawUser(json: #"{"id":"user_a"]"#, id: "user_a", createdAt: Self.t0)
        XCTAssertThrowsError(try backfill([.users])) { error in
            XCTAssertTrue("\(error)".contains("not the documented shape"), "\(error)")
        }
        XCTAssertEqual(try count("SELECT count(*) AS n FROM backfill_runs WHERE finished_at IS NULL"), 1, "its position saved, not finished")
    }
}
