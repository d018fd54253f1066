import JSON
import LocalHosting
import LambdaRuntime
import TestSupport
import XCTest

/// `onUserUpdated`: newer profiles apply, older ones are stale, order of arrival never matters.
final class OnUserUpdatedTests: XCTestCase {
    var f: WebhookFixture!

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

    func testAnOlderUpdateIsStaleAndChangesNothing() throws {
        _ = try f.invoke("onUserUpdated", f.signed(f.userBody(updatedAt: 2000, firstName: "Newer")))
        let before = try f.user()
        let r = try f.invoke("onUserUpdated", f.signed(f.userBody(updatedAt: 1000, firstName: "Older")))
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.body["status"]?.stringValue, "stale")
        XCTAssertEqual(try f.user(), before)
        XCTAssertEqual(try f.db.query("SELECT outcome FROM webhook_deliveries ORDER BY received_at DESC LIMIT 1").first?
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
