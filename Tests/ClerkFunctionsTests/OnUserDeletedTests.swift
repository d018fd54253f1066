import JSON
import LambdaRuntime
import LocalHosting
import TestSupport
import XCTest

/// `onUserDeleted`: a tombstone stays, personal data and dependent rows go.
final class OnUserDeletedTests: XCTestCase {
    var f: WebhookFixture!

    // XCTest keeps every test case alive until the run ends: release its connections and servers now.
    override func tearDown() { f = nil }

    override func setUpWithError() throws { f = try WebhookFixture() }

    func testDeleteKeepsATombstoneAndErasesPersonalData() throws {
        let created = try f.invoke("onUserCreated", f.signed(f.userBody(type: "user.created", updatedAt: 1000)))
        let r = try f.invoke("onUserDeleted", f.signed(f.deletedBody()))
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.body["status"]?.stringValue, "processed")
        XCTAssertEqual(r.body["userId"], created.body["userId"], "the tombstone keeps the internal id")
        let user = try XCTUnwrap(f.user())
        XCTAssertEqual(user["deleted"], "true")
        for column in ["email", "first_name", "last_name", "username", "image_url", "raw"] {
            XCTAssertNil(user[column], "\(column) must be erased")
        }
        XCTAssertEqual(try f.count("subscriptions"), 0)
        XCTAssertEqual(try f.count("usage_metrics"), 0)
    }

    func testDeleteBeforeCreateLeavesATombstoneThatALateCreateCannotRevive() throws {
        let r = try f.invoke("onUserDeleted", f.signed(f.deletedBody()))
        XCTAssertEqual(r.body["status"]?.stringValue, "processed")
        XCTAssertEqual(try f.user()?["deleted"], "true")
        let late = try f.invoke("onUserCreated", f.signed(f.userBody(type: "user.created", updatedAt: 1000)))
        XCTAssertEqual(late.body["status"]?.stringValue, "stale")
        XCTAssertNil(try f.user()?["email"])
        XCTAssertEqual(try f.count("subscriptions"), 0)
    }

    func testDeletingTwiceThroughTwoDeliveriesIsHarmless() throws {
        _ = try f.invoke("onUserCreated", f.signed(f.userBody(type: "user.created", updatedAt: 1000)))
        XCTAssertEqual(try f.invoke("onUserDeleted", f.signed(f.deletedBody())).body["status"]?.stringValue, "processed")
        XCTAssertEqual(try f.invoke("onUserDeleted", f.signed(f.deletedBody())).body["status"]?.stringValue, "processed")
        XCTAssertEqual(try f.count("users"), 1)
    }

    func testTheSampleEventDeletesOnlyItsUser() throws {
        _ = try f.invoke("onUserCreated", f.signed(f.payload("user.created.json")))
        _ = try f.invoke("clerkWebhook", f.signed(f.payload("user.created.second-user.json")))
        _ = try f.invoke("onUserDeleted", f.signed(f.payload("user.deleted.json")))
        XCTAssertEqual(try f.user("user_2bQ7nR4tW8xY1zA3cE5gI9kM2oP")?["deleted"], "true")
        XCTAssertEqual(try f.user("user_2Zs8PqLwX4nT6kVb9cRj1mHdYeF")?["deleted"], "false")
    }
}
