import ClerkFunctions
import ClerkKit
import JSON
import LambdaRuntime
import LocalHosting
import Store
import TestSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// `onOrganizationEvent` (and `clerkWebhook`): organizations and memberships with the user rules: idempotent
/// by delivery id, ordered by Clerk's `updated_at`, tombstones never revived, memberships kept until their
/// user or organization arrives.
final class OnOrganizationEventTests: XCTestCase {
    var f: WebhookFixture!

    override func setUpWithError() throws { f = try WebhookFixture() }
    // XCTest keeps every test case alive until the run ends: release the harness and its connections now.
    override func tearDown() { f = nil }

    static let acme = "org_2b1M4kQz8RtY6wXc3nVp7LsJfGa"
    static let ada = "user_2Zs8PqLwX4nT6kVb9cRj1mHdYeF"

    // MARK: every event type, signed as Svix signs

    func testEverySampleEventTypeApplies() throws {
        let org = try f.invoke("onOrganizationEvent", f.signed(f.payload("organization.created.json")))
        XCTAssertEqual(org.status, 200)
        XCTAssertEqual(org.body["status"]?.stringValue, "processed")
        let orgId = try XCTUnwrap(org.body["organizationId"]?.stringValue)
        var row = try XCTUnwrap(organization(Self.acme))
        XCTAssertEqual(row["id"], orgId)
        XCTAssertEqual(row["name"], "Acme")
        XCTAssertEqual(row["slug"], "acme")
        XCTAssertEqual(row["public_metadata"], #"{"plan": "team"}"#)
        XCTAssertEqual(row["updated_ms"], "1735732900000")
        XCTAssertEqual(row["raw_id"], Self.acme, "raw_payload is the event's data")

        let member = try f.invoke("onOrganizationEvent", f.signed(f.payload("organizationMembership.created.json")))
        XCTAssertEqual(member.body["status"]?.stringValue, "processed")
        XCTAssertNotNil(member.body["membershipId"]?.stringValue)
        var m = try XCTUnwrap(membership("orgmem_2dK3nB7vC1xZ5qW9eR4tY8uIoPa"))
        XCTAssertEqual(m["organization_id"], orgId)
        XCTAssertEqual(m["role"], "org:admin")
        XCTAssertEqual(m["permissions"], "{org:sys_memberships:manage,org:sys_memberships:read,org:sys_profile:manage}")
        XCTAssertNil(m["user_id"], "the user has not arrived yet")

        let updated = try f.invoke("onOrganizationEvent", f.signed(f.payload("organization.updated.json")))
        XCTAssertEqual(updated.body["status"]?.stringValue, "processed")
        row = try XCTUnwrap(organization(Self.acme))
        XCTAssertEqual(row["name"], "Acme Corporation")
        XCTAssertEqual(row["updated_ms"], "1736337700000")

        let mu = try f.invoke("onOrganizationEvent", f.signed(f.payload("organizationMembership.updated.json")))
        XCTAssertEqual(mu.body["status"]?.stringValue, "processed", "an update before the create creates the row")
        m = try XCTUnwrap(membership("orgmem_2eL4oC8wD2yA6rX0fS5uZ9vJpQb"))
        XCTAssertEqual(m["role"], "org:member")
        let md = try f.invoke("onOrganizationEvent", f.signed(f.payload("organizationMembership.deleted.json")))
        XCTAssertEqual(md.body["status"]?.stringValue, "processed")
        XCTAssertEqual(try membership("orgmem_2eL4oC8wD2yA6rX0fS5uZ9vJpQb")?["deleted"], "true")

        let od = try f.invoke("onOrganizationEvent", f.signed(f.payload("organization.deleted.json")))
        XCTAssertEqual(od.body["status"]?.stringValue, "processed")
        let tomb = try XCTUnwrap(organization("org_2cX9pL4mQ7wE1rT5yU8iO3aSdFg"))
        XCTAssertEqual(tomb["deleted"], "true", "an unknown organization's deletion leaves a tombstone")
        XCTAssertEqual(tomb["slug"], "globex")

        let types = try f.db.query("SELECT payload->>'type' AS t FROM outbox WHERE queue = 'organization-events' ORDER BY id")
            .map { try $0.decode("t", as: String.self) }
        XCTAssertEqual(
            types,
            [
                "organization.created", "organizationMembership.created", "organization.updated",
                "organizationMembership.created", "organizationMembership.deleted", "organization.deleted"
            ])
        let logs = f.logs
        XCTAssertTrue(logs.contains(#""type":"organizationMembership.deleted""#), logs)
        XCTAssertFalse(logs.contains("v1,"), "no signature in the logs")
    }

    func testClerkWebhookRoutesEveryOrganizationType() throws {
        for name in [
            "organization.created", "organizationMembership.created", "organization.updated",
            "organizationMembership.updated", "organizationMembership.deleted", "organization.deleted"
        ] {
            let r = try f.invoke("clerkWebhook", f.signed(f.payload(name + ".json")))
            XCTAssertEqual(r.status, 200, name)
            XCTAssertEqual(r.body["status"]?.stringValue, "processed", name)
        }
        XCTAssertEqual(try f.count("organizations"), 2)
        XCTAssertEqual(try f.count("organization_memberships"), 2)
        let types = try f.db.query("SELECT event_type FROM webhook_deliveries ORDER BY received_at").map {
            try $0.decode("event_type", as: String.self)
        }
        XCTAssertEqual(types.count, 6)
    }

    func testUserFunctionsIgnoreOrganizationEventsAndTheOrganizationFunctionIgnoresUserEvents() throws {
        let r = try f.invoke("onUserCreated", f.signed(f.payload("organization.created.json")))
        XCTAssertEqual(r.status, 202)
        let u = try f.invoke("onOrganizationEvent", f.signed(f.payload("user.created.json")))
        XCTAssertEqual(u.status, 202)
        XCTAssertEqual(u.body["status"]?.stringValue, "ignored")
        XCTAssertEqual(try f.count("organizations") + f.count("users"), 0)
    }

    // MARK: ordering, tombstones, duplicates

    func testAPostgreSQLDataErrorIsAPermanentRejectionThatIsRecorded() throws {
        // An update time past PostgreSQL's timestamp range fails the same way on every retry (22008).
        let event = try f.signed(orgBody(updatedAt: 9_223_372_036_854_775_000), id: "msg_org_data_error")
        let r = try f.invoke("onOrganizationEvent", event)
        XCTAssertEqual(r.status, 200, "Svix must stop retrying (\(r.body))")
        XCTAssertEqual(r.body["status"]?.stringValue, "rejected")
        XCTAssertEqual(r.body["error"]?.stringValue, "data_error")
        XCTAssertEqual(r.body["sqlState"]?.stringValue.map { String($0.prefix(2)) }, "22")
        XCTAssertNil(try organization("org_test"), "nothing half-applied")
        let delivery = try XCTUnwrap(f.db.query("SELECT outcome FROM webhook_deliveries WHERE svix_id = 'msg_org_data_error'").first)
        XCTAssertEqual(try delivery.decode("outcome", as: String.self), "rejected")
        let kept = try XCTUnwrap(f.db.query("SELECT source, reason, body FROM queue_rejects WHERE message_id = 'msg_org_data_error'").first)
        XCTAssertEqual(try kept.decode("source", as: String.self), "webhook")
        XCTAssertTrue(try kept.decode("body", as: String.self).contains("org_test"), "the body is kept for a person")
        XCTAssertTrue(f.logs.contains("\"reason\":\"data_error\""), f.logs)
        let again = try f.invoke("onOrganizationEvent", f.signed(orgBody(updatedAt: 9_223_372_036_854_775_000), id: "msg_org_data_error"))
        XCTAssertEqual(again.status, 200, "the retry is a duplicate")
    }

    func testAnOlderOrganizationUpdateIsStale() throws {
        _ = try f.invoke("onOrganizationEvent", f.signed(orgBody(updatedAt: 2000, name: "Newer")))
        let r = try f.invoke("onOrganizationEvent", f.signed(orgBody(type: "organization.updated", updatedAt: 1000, name: "Older")))
        XCTAssertEqual(r.body["status"]?.stringValue, "stale")
        XCTAssertEqual(try organization("org_test")?["name"], "Newer")
        let late = try f.invoke("onOrganizationEvent", f.signed(orgBody(type: "organization.created", updatedAt: 1500, name: "Late")))
        XCTAssertEqual(late.body["status"]?.stringValue, "stale")
        XCTAssertEqual(try outboxCount(), 1, "stale events write no outbox row")
    }

    func testADeletedOrganizationIsATombstoneWithItsMembershipsAndNeverComesBack() throws {
        _ = try f.invoke("onOrganizationEvent", f.signed(orgBody(updatedAt: 1000)))
        _ = try f.invoke("onOrganizationEvent", f.signed(memberBody(id: "orgmem_a", userId: "user_a", updatedAt: 1000)))
        _ = try f.invoke("onOrganizationEvent", f.signed(memberBody(id: "orgmem_b", userId: "user_b", updatedAt: 1000)))
        let d = try f.invoke("onOrganizationEvent", f.signed(orgDeletedBody()))
        XCTAssertEqual(d.body["status"]?.stringValue, "processed")
        let row = try XCTUnwrap(organization("org_test"))
        XCTAssertEqual(row["deleted"], "true")
        XCTAssertNil(row["raw_id"], "the payload is erased")
        XCTAssertEqual(try membership("orgmem_a")?["deleted"], "true")
        XCTAssertEqual(try membership("orgmem_b")?["deleted"], "true")
        XCTAssertEqual(
            try f.db.query("SELECT payload->>'membershipsDeleted' AS n FROM outbox WHERE payload->>'type' = 'organization.deleted'")
                .first?.decode("n", as: String.self), "2")

        let ghost = try f.invoke("onOrganizationEvent", f.signed(orgBody(type: "organization.updated", updatedAt: 9999, name: "Ghost")))
        XCTAssertEqual(ghost.body["status"]?.stringValue, "stale")
        let again = try f.invoke(
            "onOrganizationEvent",
            f.signed(
                memberBody(
                    id: "orgmem_a", userId: "user_a", updatedAt: 9999,
                    type: "organizationMembership.updated")))
        XCTAssertEqual(again.body["status"]?.stringValue, "stale")
        let newcomer = try f.invoke("onOrganizationEvent", f.signed(memberBody(id: "orgmem_c", userId: "user_c", updatedAt: 9999)))
        XCTAssertEqual(newcomer.body["status"]?.stringValue, "stale", "a deleted organization takes no new members")
        XCTAssertNil(try membership("orgmem_c"))
        XCTAssertEqual(try organization("org_test")?["deleted"], "true")
        XCTAssertEqual(try membership("orgmem_a")?["deleted"], "true")
    }

    func testADeleteBeforeTheCreateLeavesATombstoneAndTheCreateIsStale() throws {
        _ = try f.invoke("onOrganizationEvent", f.signed(orgDeletedBody()))
        let r = try f.invoke("onOrganizationEvent", f.signed(orgBody(updatedAt: 1000)))
        XCTAssertEqual(r.body["status"]?.stringValue, "stale")
        XCTAssertEqual(try organization("org_test")?["deleted"], "true")
        _ = try f.invoke("onOrganizationEvent", f.signed(memberDeletedBody(id: "orgmem_x")))
        let m = try f.invoke("onOrganizationEvent", f.signed(memberBody(id: "orgmem_x", userId: "user_x", updatedAt: 1000)))
        XCTAssertEqual(m.body["status"]?.stringValue, "stale", "a bare deleted membership is a tombstone too")
    }

    func testAnOlderMembershipUpdateIsStaleAndANewerOneChangesTheRole() throws {
        _ = try f.invoke("onOrganizationEvent", f.signed(memberBody(id: "orgmem_a", userId: "user_a", updatedAt: 2000, role: "org:admin")))
        let old = try f.invoke(
            "onOrganizationEvent",
            f.signed(
                memberBody(
                    id: "orgmem_a", userId: "user_a", updatedAt: 1000,
                    role: "org:member", type: "organizationMembership.updated")))
        XCTAssertEqual(old.body["status"]?.stringValue, "stale")
        XCTAssertEqual(try membership("orgmem_a")?["role"], "org:admin")
        let new = try f.invoke(
            "onOrganizationEvent",
            f.signed(
                memberBody(
                    id: "orgmem_a", userId: "user_a", updatedAt: 3000,
                    role: "org:member", type: "organizationMembership.updated")))
        XCTAssertEqual(new.body["status"]?.stringValue, "processed")
        XCTAssertEqual(try membership("orgmem_a")?["role"], "org:member")
        XCTAssertEqual(
            try f.db.query("SELECT payload->>'previousRole' AS r FROM outbox WHERE payload->>'type' = 'organizationMembership.updated'")
                .first?.decode("r", as: String.self), "org:admin")
    }

    func testAMembershipChangeAfterItsDeletionIsStaleAndChangesNothing() throws {
        _ = try f.invoke("onOrganizationEvent", f.signed(memberBody(id: "orgmem_a", userId: "user_a", updatedAt: 1000)))
        _ = try f.invoke("onOrganizationEvent", f.signed(memberDeletedBody(id: "orgmem_a")))
        let events = try outboxCount()
        let late = try f.invoke(
            "onOrganizationEvent",
            f.signed(
                memberBody(
                    id: "orgmem_a", userId: "user_a", updatedAt: 9000, role: "org:admin",
                    type: "organizationMembership.updated")))
        XCTAssertEqual(late.body["status"]?.stringValue, "stale", "a deleted membership is a tombstone")
        let m = try XCTUnwrap(membership("orgmem_a"))
        XCTAssertEqual(m["deleted"], "true")
        XCTAssertEqual(m["role"], "org:member")
        XCTAssertEqual(try outboxCount(), events, "no event for a change that was not made")
    }

    func testAMembershipOfADeletedOrganizationTakesNoChangeWhateverItsOwnRowSays() throws {
        _ = try f.invoke("onOrganizationEvent", f.signed(orgBody(updatedAt: 1000)))
        _ = try f.invoke("onOrganizationEvent", f.signed(memberBody(id: "orgmem_a", userId: "user_a", updatedAt: 1000)))
        // Only the organization's row says it is gone (its membership left live, by hand or by a restore): the
        // organization's tombstone alone keeps the membership from changing.
        try f.db.query("UPDATE organizations SET deleted_at = now() WHERE clerk_org_id = 'org_test'")
        let late = try f.invoke(
            "onOrganizationEvent",
            f.signed(
                memberBody(
                    id: "orgmem_a", userId: "user_a", updatedAt: 9000, role: "org:admin",
                    type: "organizationMembership.updated")))
        XCTAssertEqual(late.body["status"]?.stringValue, "stale")
        XCTAssertEqual(try membership("orgmem_a")?["role"], "org:member")
    }

    func testTheSameDeliveryTwiceChangesNothingTheSecondTime() throws {
        let event = try f.signed(orgBody(updatedAt: 1000), id: "msg_org_dup")
        let first = try f.invoke("onOrganizationEvent", event)
        let second = try f.invoke("onOrganizationEvent", event)
        XCTAssertEqual(first.body["status"]?.stringValue, "processed")
        XCTAssertEqual(second.body["status"]?.stringValue, "duplicate")
        XCTAssertEqual(second.body["organizationId"], first.body["organizationId"])
        let m = try f.signed(memberBody(id: "orgmem_a", userId: "user_a", updatedAt: 1000), id: "msg_mem_dup")
        XCTAssertEqual(try f.invoke("onOrganizationEvent", m).body["status"]?.stringValue, "processed")
        XCTAssertEqual(try f.invoke("onOrganizationEvent", m).body["status"]?.stringValue, "duplicate")
        XCTAssertEqual(try outboxCount(), 2)
        XCTAssertEqual(try f.count("organization_memberships"), 1)
    }

    // MARK: memberships before their user or organization

    func testAMembershipBeforeItsUserIsLinkedWhenTheUserArrives() throws {
        _ = try f.invoke("onOrganizationEvent", f.signed(orgBody(updatedAt: 1000)))
        _ = try f.invoke("onOrganizationEvent", f.signed(memberBody(id: "orgmem_a", userId: "user_test", updatedAt: 1000)))
        XCTAssertNil(try membership("orgmem_a")?["user_id"])
        let u = try f.invoke("onUserCreated", f.signed(f.userBody(type: "user.created", updatedAt: 1000)))
        let userId = try XCTUnwrap(u.body["userId"]?.stringValue)
        XCTAssertEqual(try membership("orgmem_a")?["user_id"], userId)
    }

    func testAMembershipBeforeItsUserIsLinkedToAJustInTimeUserRowToo() throws {
        _ = try f.invoke("onOrganizationEvent", f.signed(memberBody(id: "orgmem_a", userId: "user_jit", updatedAt: 1000)))
        let created = try UserStore(connection: f.db).findOrCreate(clerkUserId: "user_jit", environment: "production")
        XCTAssertEqual(try membership("orgmem_a")?["user_id"], created.id.postgresText)
    }

    func testAMembershipBeforeItsOrganizationIsLinkedWhenTheOrganizationArrives() throws {
        _ = try f.invoke("onUserCreated", f.signed(f.userBody(type: "user.created", updatedAt: 1000)))
        let m = try f.invoke("onOrganizationEvent", f.signed(memberBody(id: "orgmem_a", userId: "user_test", updatedAt: 1000)))
        XCTAssertEqual(m.body["status"]?.stringValue, "processed")
        XCTAssertNil(try membership("orgmem_a")?["organization_id"])
        XCTAssertNotNil(try membership("orgmem_a")?["user_id"], "the user was there")
        let o = try f.invoke("onOrganizationEvent", f.signed(orgBody(updatedAt: 1000)))
        XCTAssertEqual(try membership("orgmem_a")?["organization_id"], o.body["organizationId"]?.stringValue)
    }

    func testAMembershipBeforeItsOrganizationsDeletionIsDeletedWithIt() throws {
        _ = try f.invoke("onOrganizationEvent", f.signed(memberBody(id: "orgmem_a", userId: "user_a", updatedAt: 1000)))
        _ = try f.invoke("onOrganizationEvent", f.signed(orgDeletedBody()))
        let m = try XCTUnwrap(membership("orgmem_a"))
        XCTAssertEqual(m["deleted"], "true")
        XCTAssertNotNil(m["organization_id"])
    }

    // MARK: hostile input

    func testMalformedOrganizationEventsAre400AndNulIsStripped() throws {
        let noId = try f.invoke("onOrganizationEvent", f.signed(Array(#"{"type":"organization.created","data":{"name":"x"}}"#.utf8)))
        XCTAssertEqual(noId.status, 400)
        XCTAssertTrue(noId.body.serialized().contains("malformed_json"))
        let noOrg = try f.invoke("onOrganizationEvent", f.signed(Array(#"{"type":"organizationMembership.created","data":{"id":"orgmem_x"}}"#.utf8)))
        XCTAssertEqual(noOrg.status, 400)
        let badTime = try f.invoke(
            "onOrganizationEvent", f.signed(Array(#"{"type":"organization.updated","data":{"id":"org_x","updated_at":1.5e300}}"#.utf8)))
        XCTAssertEqual(badTime.status, 400, "a timestamp that is not an Int64 is refused, not trapped")
        XCTAssertTrue(f.logs.contains("malformed_json"))

        let nul = Array(
            #"{"type":"organization.created","timestamp":5,"data":{"id":"org_nul","name":"A\u0000cme","slug":"acme","public_metadata":{"k":"v\u0000"},"updated_at":5}}"#
                .utf8)
        let r = try f.invoke("onOrganizationEvent", f.signed(nul))
        XCTAssertEqual(r.status, 200, r.body.serialized())
        XCTAssertEqual(try organization("org_nul")?["name"], "Acme")
        XCTAssertTrue(f.logs.contains(#""nulRemoved":"#))
        XCTAssertEqual(try f.count("organizations"), 1)
    }

    func testAnUnsignedOrganizationEventIsRefused() throws {
        let body = orgBody(updatedAt: 1000)
        let forged = WebhookEventBuilder.httpEvent(
            body: body,
            headers: [
                "svix-id": "msg_x", "svix-timestamp": "\(Clock.nowSeconds())",
                "svix-signature": "v1,AAAA"
            ])
        let r = try f.invoke("onOrganizationEvent", forged)
        XCTAssertEqual(r.status, 401)
        XCTAssertEqual(try f.count("organizations"), 0)
    }

    // MARK: two processes

    /// Runs `events` in one `clerk-functions invoke` process each, released together: the test holds a lock
    /// that every delivery's first write waits for, and lets go once all of them wait. Every process must end
    /// with exit code 0 and answer 200 (a 500 is a failure, whatever the database shows after); returns the
    /// answers' bodies in the order of `events`.
    func runTogether(
        _ events: [[UInt8]], function: String = "onOrganizationEvent",
        file: StaticString = #filePath, line: UInt = #line
    ) throws -> [JSONValue] {
        let gate = try LockGate(["LOCK TABLE webhook_deliveries IN EXCLUSIVE MODE"])
        let environment = childEnvironment(["DATABASE_URL": TestDatabase.url, "PROD_CLERK_WEBHOOK_SECRET": f.prodSecret])
        let processes = events.map { ChildProcess(invoke: function, event: $0, environment: environment) }
        let waiting = try gate.waitForWaiters(events.count)
        XCTAssertEqual(waiting.count, events.count, "every process reached the database before any wrote: \(waiting)", file: file, line: line)
        try gate.release()
        return try processes.map { p in
            let a = try p.answer()
            XCTAssertEqual(a.exit, 0, a.logs, file: file, line: line)
            XCTAssertEqual(a.status, 200, "\(a.body)", file: file, line: line)
            return a.body
        }
    }

    /// The `status` of each answer, in order.
    func statuses(_ answers: [JSONValue]) -> [String] { answers.map { $0["status"]?.stringValue ?? "none: \($0)" } }

    func testTwoProcessesWithTheSameDeliveryApplyItOnce() throws {
        let event = try f.signed(orgBody(updatedAt: 1000), id: "msg_race_same")
        let answers = try runTogether([event, event])
        XCTAssertEqual(statuses(answers).sorted(), ["duplicate", "processed"])
        XCTAssertEqual(try f.count("organizations"), 1)
        XCTAssertEqual(try outboxCount(), 1)
        let m = try f.signed(memberBody(id: "orgmem_a", userId: "user_a", updatedAt: 1000), id: "msg_race_member")
        let memberAnswers = try runTogether([m, m])
        XCTAssertEqual(statuses(memberAnswers).sorted(), ["duplicate", "processed"])
        XCTAssertEqual(try f.count("organization_memberships"), 1)
    }

    func testTwoProcessesRacingCreateAndDeleteEndWithATombstone() throws {
        let answers = try runTogether([try f.signed(orgBody(updatedAt: 1000)), try f.signed(orgDeletedBody())])
        // The deletion is always applied; the creation too when it came first, else it finds the tombstone.
        XCTAssertEqual(statuses(answers)[1], "processed")
        XCTAssertTrue(["processed", "stale"].contains(statuses(answers)[0]), "\(answers)")
        XCTAssertEqual(try organization("org_test")?["deleted"], "true", "whichever came first, the organization stays deleted")
        XCTAssertEqual(try f.count("organizations"), 1)
    }

    func testTwoProcessesRacingAMembershipAndItsOrganizationLinkThem() throws {
        let answers = try runTogether([
            try f.signed(memberBody(id: "orgmem_a", userId: "user_a", updatedAt: 1000)),
            try f.signed(orgBody(updatedAt: 1000)),
            try f.signed(memberBody(id: "orgmem_b", userId: "user_b", updatedAt: 1000))
        ])
        XCTAssertEqual(statuses(answers), ["processed", "processed", "processed"])
        let orgId = try XCTUnwrap(organization("org_test")?["id"])
        XCTAssertEqual(try membership("orgmem_a")?["organization_id"], orgId)
        XCTAssertEqual(try membership("orgmem_b")?["organization_id"], orgId)
    }

    func testTwoProcessesRacingAMembershipAndDeletingItsOrganizationLeaveNoLiveMembership() throws {
        _ = try f.invoke("onOrganizationEvent", f.signed(orgBody(updatedAt: 1000)))
        let answers = try runTogether([
            try f.signed(memberBody(id: "orgmem_a", userId: "user_a", updatedAt: 1000)),
            try f.signed(orgDeletedBody())
        ])
        // The membership is kept (deleted with its organization) when it came first, refused as stale after.
        XCTAssertTrue(["processed", "stale"].contains(statuses(answers)[0]), "\(answers)")
        XCTAssertEqual(statuses(answers)[1], "processed")
        XCTAssertEqual(
            try f.db.query("SELECT count(*) AS n FROM organization_memberships WHERE deleted_at IS NULL")
                .first?.decode("n", as: Int.self), 0)
    }

    func testTwoProcessesRacingAMembershipAndItsUserLinkThem() throws {
        let answers = try runTogether(
            [
                try f.signed(memberBody(id: "orgmem_a", userId: "user_test", updatedAt: 1000)),
                try f.signed(f.userBody(type: "user.created", updatedAt: 1000))
            ], function: "clerkWebhook")
        XCTAssertEqual(statuses(answers), ["processed", "processed"])
        let userId = try XCTUnwrap(f.user()?["id"])
        XCTAssertEqual(try membership("orgmem_a")?["user_id"], userId)
    }

    // MARK: helpers

    func orgBody(type: String = "organization.created", id: String = "org_test", updatedAt: Int64, name: String = "Test Org") -> [UInt8] {
        Array(
            #"""
            {"data":{"object":"organization","id":"\#(id)","name":"\#(name)","slug":"test-org","image_url":"https://img.clerk.com/o","public_metadata":{},"created_at":500,"updated_at":\#(updatedAt)},"object":"event","timestamp":\#(updatedAt + 50),"type":"\#(type)"}
            """#.utf8)
    }

    func orgDeletedBody(id: String = "org_test") -> [UInt8] {
        Array(
            #"{"data":{"deleted":true,"id":"\#(id)","object":"organization","slug":"test-org"},"object":"event","timestamp":1738324800789,"type":"organization.deleted"}"#
                .utf8)
    }

    func memberBody(
        id: String, orgId: String = "org_test", userId: String, updatedAt: Int64, role: String = "org:member",
        type: String = "organizationMembership.created"
    ) -> [UInt8] {
        Array(
            #"""
            {"data":{"object":"organization_membership","id":"\#(id)","role":"\#(role)","permissions":["org:sys_memberships:read"],"created_at":500,"updated_at":\#(updatedAt),"organization":{"object":"organization","id":"\#(orgId)","name":"Test Org","slug":"test-org","created_at":500,"updated_at":500},"public_user_data":{"user_id":"\#(userId)","identifier":"x@example.com"}},"object":"event","timestamp":\#(updatedAt + 50),"type":"\#(type)"}
            """#.utf8)
    }

    func memberDeletedBody(id: String) -> [UInt8] {
        Array(
            #"{"data":{"deleted":true,"id":"\#(id)","object":"organization_membership"},"object":"event","timestamp":1738324800789,"type":"organizationMembership.deleted"}"#
                .utf8)
    }

    func organization(_ clerkId: String) throws -> [String: String]? {
        let rows = try f.db.query(
            """
            SELECT id::text, name, slug, image_url, public_metadata::text, raw_payload->>'id' AS raw_id,
                   (extract(epoch FROM clerk_updated_at) * 1000)::bigint::text AS updated_ms, (deleted_at IS NOT NULL)::text AS deleted
              FROM organizations WHERE clerk_org_id = $1 AND environment = 'production'
            """, [clerkId])
        guard let row = rows.first else { return nil }
        var out: [String: String] = [:]
        for c in ["id", "name", "slug", "image_url", "public_metadata", "raw_id", "updated_ms", "deleted"] {
            if let v = try row.decodeIfPresent(c, as: String.self) { out[c] = v }
        }
        return out
    }

    func membership(_ clerkId: String) throws -> [String: String]? {
        let rows = try f.db.query(
            """
            SELECT id::text, organization_id::text, user_id::text, clerk_org_id, clerk_user_id, role, permissions::text,
                   (deleted_at IS NOT NULL)::text AS deleted
              FROM organization_memberships WHERE clerk_membership_id = $1 AND environment = 'production'
            """, [clerkId])
        guard let row = rows.first else { return nil }
        var out: [String: String] = [:]
        for c in ["id", "organization_id", "user_id", "clerk_org_id", "clerk_user_id", "role", "permissions", "deleted"] {
            if let v = try row.decodeIfPresent(c, as: String.self) { out[c] = v }
        }
        return out
    }

    func outboxCount() throws -> Int {
        try f.db.query("SELECT count(*) AS n FROM outbox WHERE queue = 'organization-events'").first?.decode("n", as: Int.self) ?? -1
    }
}
