import JSON
import LocalHosting
import Store
import TestSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// Deliveries in two processes in one written interleaving, not the scheduler's: a race that a guard (a lock both
/// sides take) closes happens on every run, so a test fails whenever the guard is missing.
extension OnOrganizationEventTests {
    func testAMembershipAndItsUserArrivingWhileTheOtherIsWrittenAreLinked() throws {
        // The membership has found no user and written its row, not yet committed, when the user is created: the
        // user's trigger must wait for it (both take the user's lock), or it links nothing and the membership stays
        // unlinked for good.
        try runInTurn(
            [
                ("onOrganizationEvent", try f.signed(memberBody(id: "orgmem_a", userId: "user_test", updatedAt: 1000))),
                ("onUserCreated", try f.signed(f.userBody(type: "user.created", updatedAt: 1000)))
            ], holding: "outbox")
        XCTAssertEqual(try membership("orgmem_a")?["user_id"], try XCTUnwrap(f.user()?["id"]))
        // The other way round: the user's row is written, not committed, when the membership looks for it.
        try runInTurn(
            [
                ("onUserCreated", try f.signed(f.userBody(type: "user.created", id: "user_b", updatedAt: 1000))),
                ("onOrganizationEvent", try f.signed(memberBody(id: "orgmem_b", userId: "user_b", updatedAt: 1000)))
            ],
            holding: "outbox")
        XCTAssertEqual(try membership("orgmem_b")?["user_id"], try XCTUnwrap(f.user("user_b")?["id"]))
    }

    func testAMembershipAndItsOrganizationArrivingWhileTheOtherIsWrittenAreLinked() throws {
        // As with the user: the organization's own update of its waiting memberships must wait for a membership
        // written meanwhile (both take the organization's lock), whichever comes first.
        try runInTurn(
            [
                ("onOrganizationEvent", try f.signed(memberBody(id: "orgmem_a", userId: "user_a", updatedAt: 1000))),
                ("onOrganizationEvent", try f.signed(orgBody(updatedAt: 1000)))
            ], holding: "outbox")
        let orgId = try XCTUnwrap(organization("org_test")?["id"])
        XCTAssertEqual(try membership("orgmem_a")?["organization_id"], orgId)
        try runInTurn(
            [
                ("onOrganizationEvent", try f.signed(orgBody(id: "org_b", updatedAt: 1000))),
                ("onOrganizationEvent", try f.signed(memberBody(id: "orgmem_b", orgId: "org_b", userId: "user_b", updatedAt: 1000)))
            ],
            holding: "outbox")
        XCTAssertEqual(try membership("orgmem_b")?["organization_id"], try XCTUnwrap(organization("org_b")?["id"]))
    }

    /// Runs `events` (function and body) in one `clerk-functions invoke` process each, in the order given: the test
    /// holds `table` locked and starts each process once every earlier one waits on a lock (the table, or one a
    /// guard takes), then lets go. Each process must exit 0 and answer 200.
    func runInTurn(
        _ events: [(function: String, body: [UInt8])], holding table: String,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let holder = try TestDatabase.connect()
        try holder.query("BEGIN")
        try holder.query("LOCK TABLE \(table) IN EXCLUSIVE MODE")
        var processes: [Subprocess] = []
        for (function, body) in events {
            processes.append(
                try Subprocess(
                    path: BuiltProducts.clerkFunctions, arguments: ["invoke", function, "-"],
                    environment: childEnvironment(["DATABASE_URL": TestDatabase.url, "PROD_CLERK_WEBHOOK_SECRET": f.prodSecret]),
                    stdinBytes: body, captureOutput: true))
            XCTAssertTrue(try waitingLocks(holder, atLeast: processes.count), "process \(processes.count) waits on a lock", file: file, line: line)
        }
        try holder.query("COMMIT")
        for p in processes {
            let out = (try? FileIO.readAll(fd: p.stdoutFD ?? -1)) ?? []
            _ = try? FileIO.readAll(fd: p.stderrFD ?? -1)
            XCTAssertEqual(p.wait().code, 0, out.text, file: file, line: line)
            XCTAssertEqual(try JSONValue.parse(out)["statusCode"]?.doubleValue, 200, out.text, file: file, line: line)
        }
    }

    /// Whether `count` lock requests wait, within 30 s (a bound, not a timing assertion).
    private func waitingLocks(_ holder: PostgresConnection, atLeast count: Int) throws -> Bool {
        for _ in 0..<600 {
            if try holder.query("SELECT count(*) AS n FROM pg_locks WHERE NOT granted").first?.decode("n", as: Int.self) ?? 0 >= count {
                return true
            }
            usleep(50_000)
        }
        return false
    }
}
