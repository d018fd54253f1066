import ClerkKit
import LambdaRuntime
import Store
import XCTest

@testable import ClerkFunctions

/// The backfill's organizations pass with Clerk scripted and the store in memory: each organization with its
/// memberships a page at a time, an organization larger than one invocation resumed inside it, what is set aside.
/// The SQL that links members to users and organizations, and its locks, are the integration tier's
/// (`BackfillClerkTests`, `BackfillLockTests`).
final class BackfillOrganizationsTests: BackfillTestCase {
    func testEachOrganizationComesWithItsMembershipsInClerksOrder() throws {
        addOrganization("org_a", created: 1, members: 2)
        addOrganization("org_b", created: 2, members: 1)
        let summary = try backfill([.organizations])
        XCTAssertTrue(summary.complete)
        XCTAssertEqual(summary.organizations.created, 2)
        XCTAssertEqual(summary.memberships.created, 3)
        XCTAssertEqual(runs.appliedIds, ["org_a", "orgmem_org_a_0", "orgmem_org_a_1", "org_b", "orgmem_org_b_0"])
        XCTAssertEqual(clerk.reads.map(\.list), ["organizations", "org_a", "org_b"])
        XCTAssertTrue(runs.pages.allSatisfy { $0.within == nil }, "each fits in one page: the position moves past it")
        XCTAssertEqual(runs.pages.map(\.cursor.anchorId), ["org_a", "org_b"])
    }

    func testAnOrganizationWithMoreMembersThanAnInvocationListsResumesInsideIt() throws {
        addOrganization("org_big", created: 1, members: 7)
        addOrganization("org_next", created: 2, members: 1)
        // The deadline passes during the second page of org_big's members.
        clerk.beforeRead = { [clock] read in
            if read.list == "org_big" && read.offset > 0 { clock.nowMs += 10_000_000 }
        }
        let first = try backfill([.organizations])
        XCTAssertFalse(first.complete)
        XCTAssertEqual(first.organizations.created, 1)
        XCTAssertEqual(first.memberships.created, 5)
        let inside = try XCTUnwrap(try XCTUnwrap(runs.runs.first).run.memberships)
        XCTAssertEqual(inside.clerkOrgId, "org_big")
        XCTAssertEqual(inside.cursor, BackfillCursor(offset: 5, anchorId: "orgmem_org_big_4", anchorCreatedMs: 5))
        XCTAssertEqual(try XCTUnwrap(runs.runs.first).run.organizations, BackfillCursor(), "still before org_big")

        clerk.beforeRead = nil
        let second = try backfill([.organizations])
        XCTAssertTrue(second.complete)
        XCTAssertEqual(second.organizations.created, 2)
        XCTAssertEqual(second.memberships.created, 8)
        XCTAssertTrue(progress.contains("resuming inside organization org_big, after member 5"), "\(progress)")
        let big = (0..<7).map { "orgmem_org_big_\($0)" }
        XCTAssertEqual(runs.appliedIds, ["org_big"] + big + ["org_next", "orgmem_org_next_0"], "nothing applied twice")
    }

    func testAMemberListedTwiceInOnePageIsAppliedOnceAsItsLastCopy() throws {
        clerk.organizations = [ScriptedClerkLists.organization("org_a", created: 1)]
        clerk.memberships["org_a"] = [
            ScriptedClerkLists.membership("orgmem_d", org: "org_a", user: "user_1", created: 1, updated: 10),
            ScriptedClerkLists.membership("orgmem_d", org: "org_a", user: "user_1", created: 1, updated: 20)
        ]
        let summary = try backfill([.organizations])
        XCTAssertEqual(summary.memberships.created, 1)
        XCTAssertEqual(runs.appliedIds, ["org_a", "orgmem_d"])
        XCTAssertEqual(runs.row(.membership, "orgmem_d")?.updatedMs, 20)
    }

    func testARefusedOrganizationIsSetAsideAndItsMembersStillApplied() throws {
        clerk.organizations = [
            #"{"id":"org_bad","name":7,"created_at":1}"#,
            #"{"name":"no id","created_at":2}"#,
            ScriptedClerkLists.organization("org_ok", created: 3)
        ]
        clerk.memberships["org_bad"] = [
            ScriptedClerkLists.membership("orgmem_1", org: "org_bad", user: "user_1", created: 1),
            #"{"id":"orgmem_2","role":"org:member","permissions":[],"organization":{"id":"org_bad"},"public_user_data":{"user_id":"not a clerk id"},"created_at":2}"#
        ]
        clerk.memberships["org_ok"] = []
        let summary = try backfill([.organizations])
        XCTAssertTrue(summary.complete)
        XCTAssertEqual(summary.organizations.created, 1)
        XCTAssertEqual(summary.organizations.skipped, 2)
        XCTAssertEqual(summary.memberships.created, 1, "they wait, unlinked, for their organization")
        XCTAssertEqual(summary.memberships.skipped, 1)
        XCTAssertEqual(runs.kept.map(\.kind), [.organization, .membership, .organization])
        XCTAssertEqual(runs.kept.map(\.reason), ["undecodable", "invalid_id", "missing_id"])
        XCTAssertEqual(clerk.reads.map(\.list).filter { $0 != "organizations" }, ["org_bad", "org_ok"], "no members to list without an id")
        XCTAssertEqual(runs.ids(.organization), ["org_ok"])
        XCTAssertEqual(runs.pages.last?.cursor.anchorId, "org_ok", "the position moved past each")
    }
}
