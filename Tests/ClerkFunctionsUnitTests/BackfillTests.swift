import ClerkKit
import LambdaRuntime
import Store
import XCTest

@testable import ClerkFunctions

/// The backfill's decisions with Clerk's lists scripted (hostile pages among them), the store in memory and a
/// clock moved by hand: what is read in which order, what each page saves as its position, what is set aside,
/// when a run stops and where the next one resumes. The SQL (newer `updated_at` wins under row locks, the
/// advisory locks, a data error found within a statement, the saved cursor columns, two processes at once) is the
/// integration tier's (`BackfillClerkTests`, `BackfillSetAsideTests`, `BackfillCursorTests`, `BackfillLockTests`,
/// `BackfillKeepTests`).
final class BackfillTests: BackfillTestCase {
    func testUsersArePagedToTheEndWithThePositionSavedWithEachPage() throws {
        clerk.users = Self.users(7)
        let summary = try backfill([.users])
        XCTAssertTrue(summary.complete)
        XCTAssertEqual(summary.users.created, 7)
        XCTAssertEqual(runs.appliedIds, Self.userIds(7), "each user applied once, in Clerk's order")
        // Each read starts one before the saved offset, so a page that begins with the anchor proves nothing moved.
        XCTAssertEqual(clerk.offsets("users"), [0, 2, 4, 6])
        XCTAssertEqual(
            runs.pages.map(\.cursor),
            [
                BackfillCursor(offset: 3, anchorId: "user_u2", anchorCreatedMs: 3),
                BackfillCursor(offset: 5, anchorId: "user_u4", anchorCreatedMs: 5),
                BackfillCursor(offset: 7, anchorId: "user_u6", anchorCreatedMs: 7)
            ])
        let stored = try XCTUnwrap(runs.runs.first)
        XCTAssertTrue(stored.finished)
        XCTAssertEqual(stored.run.phase, "done")
        XCTAssertEqual(stored.run.counts["users"]?.created, 7)
        XCTAssertEqual(runs.ids(.user), Set(Self.userIds(7)))
    }

    func testBadItemsAreSetAsideCountedLoggedAndPassedAndTheRunCompletes() throws {
        clerk.users = [
            ScriptedClerkLists.user("user_u0", created: 1),
            #"{"id":"user_bad","created_at":2,"email_addresses":"secret@example.com"}"#,
            #"{"created_at":3,"first_name":"Secretname"}"#,
            #"{"id":"user bad!","created_at":4}"#,
            "42",
            ScriptedClerkLists.user("user_u5", created: 6),
            ScriptedClerkLists.user("user_u6", created: 7)
        ]
        runs.refusedAsData = ["user_u6"]
        let summary = try backfill([.users])
        XCTAssertTrue(summary.complete)
        XCTAssertEqual(summary.users.created, 2)
        XCTAssertEqual(summary.users.skipped, 5)
        XCTAssertEqual(runs.kept.map(\.reason), ["undecodable", "missing_id", "invalid_id", "missing_id", "data_error"])
        XCTAssertEqual(runs.kept.map(\.clerkId), ["user_bad", nil, nil, nil, "user_u6"])
        XCTAssertEqual(runs.kept.first?.body, #"{"id":"user_bad","created_at":2,"email_addresses":"secret@example.com"}"#, "kept as Clerk sent it")
        XCTAssertEqual(runs.ids(.user), ["user_u0", "user_u5"])
        let last = try XCTUnwrap(runs.pages.last)
        XCTAssertEqual(last.cursor.offset, 7, "the position moves past every item, set aside or not")
        let skipped = logs.lines.filter { $0.message == "backfill item skipped" }
        XCTAssertEqual(skipped.map { $0.fields["reason"] }, ["undecodable", "missing_id", "invalid_id", "missing_id", "data_error"])
        XCTAssertEqual(skipped.map { $0.fields["clerkId"] }, ["user_bad", nil, nil, nil, "user_u6"])
        XCTAssertTrue(skipped.allSatisfy { $0.level == .warning && $0.fields["kind"] == "user" })
        XCTAssertFalse(logs.text.contains("secret@example.com"), "a body never reaches a log")
        XCTAssertFalse(logs.text.contains("Secretname"), "a body never reaches a log")
    }

    func testARunStoppedAtItsDeadlineResumesWhereItStoppedAndRedoesNothing() throws {
        clerk.users = Self.users(10)
        clerk.beforeRead = { [clock] _ in clock.nowMs += 1000 }
        // Reads begin while more than the 2 s reserve is left: three of them fit in 4.5 s.
        let first = try backfill(budgetMs: 4500)
        XCTAssertFalse(first.complete)
        XCTAssertEqual(first.missingInClerk, 0, "not known before the pass is complete")
        XCTAssertEqual(first.users.created, 7)
        let stopped = try XCTUnwrap(runs.runs.first)
        XCTAssertFalse(stopped.finished)
        XCTAssertEqual(stopped.run.users, BackfillCursor(offset: 7, anchorId: "user_u6", anchorCreatedMs: 7))
        XCTAssertTrue(clerk.offsets("organizations").isEmpty)

        let second = try backfill()
        XCTAssertTrue(second.complete)
        XCTAssertEqual(second.users.created, 10, "the counts carry over from the run it resumed")
        XCTAssertEqual(runs.appliedIds, Self.userIds(10), "nothing applied twice")
        XCTAssertTrue(progress.contains("resuming after user 7"), "\(progress)")
        XCTAssertEqual(runs.runs.count, 1, "the same run, resumed")
    }

    func testAPageThatIsNotTheDocumentedShapeStopsTheRunWithItsPositionSaved() throws {
        clerk.users = Self.users(8)
        clerk.rawPages["users"] = [4: "<html>rate limited</html>"]
        XCTAssertThrowsError(try backfill()) { error in
            XCTAssertEqual(error as? ClerkAPIError, .malformedResponse("the page is not a JSON array"))
        }
        XCTAssertEqual(try XCTUnwrap(runs.runs.first).run.users.offset, 5)
        clerk.rawPages = [:]
        let summary = try backfill()
        XCTAssertTrue(summary.complete)
        XCTAssertEqual(runs.appliedIds, Self.userIds(8), "nothing applied twice")
    }

    func testAListThatIgnoresOffsetStopsAsUnsettledNotForever() throws {
        clerk.users = Self.users(3)
        clerk.rawPages["users"] = Dictionary(uniqueKeysWithValues: (1..<100).map { ($0, "[" + Self.users(3).joined(separator: ",") + "]") })
        XCTAssertThrowsError(try backfill()) { error in
            XCTAssertTrue(error is BackfillListUnsettled, "\(error)")
        }
        XCTAssertEqual(runs.appliedIds, Self.userIds(3), "what was read is kept once")
        XCTAssertLessThan(clerk.reads.count, 20)
        XCTAssertEqual(try XCTUnwrap(runs.runs.first).run.users.anchorId, "user_u2")
    }

    func testAnotherProcessFinishingThePassStopsThisOne() throws {
        clerk.users = Self.users(7)
        runs.finishedByAnother = true
        let summary = try backfill()
        XCTAssertFalse(summary.complete)
        XCTAssertEqual(runs.appliedIds, Self.userIds(3), "one page, then it stops rather than carry its position on")
        XCTAssertEqual(runs.runs.count, 1, "no pass opened midway")
        XCTAssertTrue(progress.contains("another backfill finished this pass"))
    }

    func testOnlyUsersReadsNoOrganizationsAndOnlyOrganizationsNoUsers() throws {
        clerk.users = Self.users(2)
        addOrganization("org_a", created: 1, members: 1)
        let users = try backfill([.users])
        XCTAssertTrue(users.complete)
        XCTAssertEqual(users.users.created, 2)
        XCTAssertEqual(users.organizations, BackfillCounts())
        XCTAssertEqual(Set(clerk.reads.map(\.list)), ["users"])
        let usersRead = clerk.offsets("users").count

        let organizations = try backfill([.organizations])
        XCTAssertTrue(organizations.complete)
        XCTAssertEqual(organizations.users, BackfillCounts(), "a new run, and no users read")
        XCTAssertEqual(organizations.organizations.created, 1)
        XCTAssertEqual(organizations.memberships.created, 1)
        XCTAssertEqual(clerk.offsets("users").count, usersRead, "no users read by the second run")
    }

    func testADryRunCountsEverythingAndKeepsNothing() throws {
        clerk.users = Self.users(7) + [#"{"created_at":9}"#]
        addOrganization("org_a", created: 1, members: 4)
        runs.add(.user, "user_gone")
        let dry = try backfill(dryRun: true)
        XCTAssertTrue(dry.complete)
        XCTAssertEqual(dry.users.created, 7)
        XCTAssertEqual(dry.users.skipped, 1)
        XCTAssertEqual(dry.organizations.created, 1)
        XCTAssertEqual(dry.memberships.created, 4, "a dry run pages on from its cursor in memory")
        XCTAssertEqual(runs.ids(.user), ["user_gone"])
        XCTAssertTrue(runs.ids(.organization).isEmpty)
        XCTAssertTrue(runs.kept.isEmpty)
        let open = try XCTUnwrap(runs.runs.first)
        XCTAssertFalse(open.finished, "the run stays open, at its start")
        XCTAssertEqual(open.run.phase, "users")
        XCTAssertEqual(open.run.users, BackfillCursor())
        XCTAssertTrue(open.run.counts.isEmpty)

        let real = try backfill()
        XCTAssertEqual(real.users.created, 7, "the real run does it all, from the start")
        XCTAssertEqual(real.memberships.created, 4)
    }

    func testLocalRowsClerkNoLongerListsAreCountedOnceThePassIsComplete() throws {
        clerk.users = Self.users(2)
        addOrganization("org_a", created: 1, members: 1)
        runs.add(.user, "user_gone")
        runs.add(.user, "user_dead", deleted: true)
        runs.add(.organization, "org_gone")
        runs.add(.membership, "orgmem_gone")
        XCTAssertEqual(try backfill([.users]).missingInClerk, 1, "only the kinds the run read")
        XCTAssertEqual(try backfill().missingInClerk, 3)
    }
}
