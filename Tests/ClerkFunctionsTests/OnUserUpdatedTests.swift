import JSON
import LambdaRuntime
import LocalHosting
import TestSupport
import XCTest

/// `onUserUpdated`: newer profiles apply, older ones are stale, order of arrival never matters.
final class OnUserUpdatedTests: XCTestCase {
    var f: WebhookFixture!

    // XCTest keeps every test case alive until the run ends: release its connections and servers now.
    override func tearDown() { f = nil }

    override func setUpWithError() throws { f = try WebhookFixture() }

    func testTheSampleUpdateAppliesTheNewPrimaryEmailAndNames() throws {
        _ = try f.invoke("onUserCreated", f.signed(f.payload("user.created.json")))
        let r = try f.invoke("onUserUpdated", f.signed(f.payload("user.updated.json")))
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.body["status"]?.stringValue, "processed")
        let user = try XCTUnwrap(f.user("user_2Zs8PqLwX4nT6kVb9cRj1mHdYeF"))
        XCTAssertEqual(user["email"], "augusta.king@example.org", "the primary address, not the first one")
        XCTAssertEqual(user["first_name"], "Augusta")
        XCTAssertEqual(user["last_name"], "King")
        XCTAssertEqual(user["updated_ms"], "1736337600456")
        XCTAssertEqual(try f.count("subscriptions"), 1, "an update adds no second subscription")
    }

    func testAUsersOwnDeeplyNestedMetadataDoesNotStopTheirSync() throws {
        // unsafe_metadata is the user's to write and rides in every event about them. The strict decoder
        // refused documents nested past 64 levels, so 100 levels of it stopped every later update (400
        // malformed_json); Foundation's reader, and now ours, allow 512.
        let deep = String(repeating: #"{"a":"#, count: 100) + "1" + String(repeating: "}", count: 100)
        let body = String(decoding: f.userBody(updatedAt: 3000, firstName: "Nested"), as: UTF8.self)
            .replacingAll(#""public_metadata":{}"#, with: #""public_metadata":{},"unsafe_metadata":"# + deep)
        let r = try f.invoke("onUserUpdated", f.signed(Array(body.utf8)))
        XCTAssertEqual(r.status, 200, r.body.serialized())
        XCTAssertEqual(try f.user()?["first_name"], "Nested")
        // Past Foundation's limit too, it is refused as before, with its reason.
        let deeper = String(repeating: #"{"a":"#, count: 600) + "1" + String(repeating: "}", count: 600)
        let refused = String(decoding: f.userBody(updatedAt: 4000, firstName: "Deeper"), as: UTF8.self)
            .replacingAll(#""public_metadata":{}"#, with: #""public_metadata":{},"unsafe_metadata":"# + deeper)
        XCTAssertEqual(try f.invoke("onUserUpdated", f.signed(Array(refused.utf8))).status, 400)
        XCTAssertEqual(try f.user()?["first_name"], "Nested")
    }

    func testAUsersOwnCanonicallyEquivalentMetadataNamesDoNotStopTheirSync() throws {
        // Issue 19: "café" composed and decomposed, "K" and the KELVIN SIGN are two names (their bytes differ)
        // but one Swift String, so the strict reader called them a duplicate and every update of this user
        // was 400 malformed_json, retried by Svix, and the row never changed again.
        let metadata = #"{"caf\u00e9":"composed","cafe\u0301":"decomposed","K":1,"\u212a":2}"#
        let body = String(decoding: f.userBody(updatedAt: 3000, firstName: "Zo\u{E9}"), as: UTF8.self)
            .replacingAll(#""public_metadata":{}"#, with: #""public_metadata":{},"unsafe_metadata":"# + metadata)
        let r = try f.invoke("onUserUpdated", f.signed(Array(body.utf8)))
        XCTAssertEqual(r.status, 200, r.body.serialized())
        XCTAssertEqual(r.body["status"]?.stringValue, "processed")
        let user = try XCTUnwrap(f.user())
        XCTAssertEqual(user["first_name"], "Zo\u{E9}")
        XCTAssertEqual(user["updated_ms"], "3000")
        // jsonb keeps both too (it compares names by bytes): the raw payload is the user's as sent.
        let stored = try f.db.query(
            """
            SELECT m ->> $1 AS composed, m ->> $2 AS decomposed, m ->> 'K' AS ascii, m ->> $3 AS kelvin,
                   (SELECT count(*) FROM jsonb_object_keys(m))::text AS names
              FROM (SELECT raw_payload -> 'unsafe_metadata' AS m FROM users WHERE clerk_user_id = 'user_test') u
            """, ["caf\u{E9}", "cafe\u{301}", "\u{212A}"])
        let row = try XCTUnwrap(stored.first)
        XCTAssertEqual(try row.decode("composed", as: String.self), "composed")
        XCTAssertEqual(try row.decode("decomposed", as: String.self), "decomposed")
        XCTAssertEqual(try row.decode("ascii", as: String.self), "1")
        XCTAssertEqual(try row.decode("kelvin", as: String.self), "2")
        XCTAssertEqual(try row.decode("names", as: String.self), "4")
        // And the next update of this user applies as any other.
        let next = String(decoding: f.userBody(updatedAt: 4000, firstName: "Zoe"), as: UTF8.self)
            .replacingAll(#""public_metadata":{}"#, with: #""public_metadata":{},"unsafe_metadata":"# + metadata)
        XCTAssertEqual(try f.invoke("onUserUpdated", f.signed(Array(next.utf8))).status, 200)
        XCTAssertEqual(try f.user()?["first_name"], "Zoe")
    }

    func testAnOlderUpdateIsStaleAndChangesNothing() throws {
        _ = try f.invoke("onUserUpdated", f.signed(f.userBody(updatedAt: 2000, firstName: "Newer")))
        let before = try f.user()
        let r = try f.invoke("onUserUpdated", f.signed(f.userBody(updatedAt: 1000, firstName: "Older")))
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.body["status"]?.stringValue, "stale")
        XCTAssertEqual(try f.user(), before)
        XCTAssertEqual(
            try f.db.query("SELECT outcome FROM webhook_deliveries ORDER BY received_at DESC LIMIT 1").first?
                .decode("outcome", as: String.self), "stale")
    }

    func testAnUpdateBeforeTheCreateCreatesTheUserAndTheLateCreateIsStale() throws {
        let r = try f.invoke("onUserUpdated", f.signed(f.userBody(updatedAt: 2000, firstName: "Updated")))
        XCTAssertEqual(r.body["status"]?.stringValue, "processed")
        XCTAssertEqual(try f.user()?["first_name"], "Updated")
        XCTAssertEqual(try f.count("subscriptions"), 1)
        XCTAssertEqual(try f.count("usage_metrics"), 1)
        let late = try f.invoke("onUserCreated", f.signed(f.userBody(type: "user.created", updatedAt: 1000, firstName: "Created")))
        XCTAssertEqual(late.body["status"]?.stringValue, "stale")
        XCTAssertEqual(late.body["userId"], r.body["userId"])
        XCTAssertEqual(try f.user()?["first_name"], "Updated")
    }

    func testAnUpdateAfterTheDeleteDoesNotBringTheUserBack() throws {
        _ = try f.invoke("onUserCreated", f.signed(f.userBody(type: "user.created", updatedAt: 1000)))
        _ = try f.invoke("onUserDeleted", f.signed(f.deletedBody()))
        let r = try f.invoke("onUserUpdated", f.signed(f.userBody(updatedAt: 9999, firstName: "Ghost")))
        XCTAssertEqual(r.body["status"]?.stringValue, "stale")
        let user = try XCTUnwrap(f.user())
        XCTAssertEqual(user["deleted"], "true")
        XCTAssertNil(user["first_name"])
        XCTAssertEqual(try f.count("subscriptions"), 0)
    }
}
