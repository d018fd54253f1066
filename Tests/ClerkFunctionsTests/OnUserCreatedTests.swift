import ClerkKit
import JSON
import LambdaRuntime
import LocalHosting
import TestSupport
import XCTest

/// `onUserCreated`, through the harness with signed events, checking the answer and the rows.
final class OnUserCreatedTests: XCTestCase {
    var f: WebhookFixture!

    // XCTest keeps every test case alive until the run ends: release its connections and servers now.
    override func tearDown() { f = nil }

    override func setUpWithError() throws { f = try WebhookFixture() }

    func testCreatesTheUserWithAFreeSubscriptionAndZeroedUsage() throws {
        let r = try f.invoke("onUserCreated", f.signed(f.payload("user.created.json"), id: "msg_created_1"))
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.body["status"]?.stringValue, "processed")
        let user = try XCTUnwrap(f.user("user_2Zs8PqLwX4nT6kVb9cRj1mHdYeF"))
        XCTAssertEqual(r.body["userId"]?.stringValue, user["id"])
        XCTAssertEqual(user["email"], "ada@example.com")
        XCTAssertEqual(user["first_name"], "Ada")
        XCTAssertEqual(user["last_name"], "Lovelace")
        XCTAssertNil(user["username"])
        XCTAssertEqual(user["updated_ms"], "1735732800158")
        XCTAssertEqual(user["deleted"], "false")
        let raw = try JSONValue.parse(Array(user["raw"]!.utf8))
        XCTAssertEqual(raw["id"]?.stringValue, "user_2Zs8PqLwX4nT6kVb9cRj1mHdYeF", "raw_payload is the event's data object")
        XCTAssertEqual(try f.db.query("SELECT tier FROM subscriptions").first?.decode("tier", as: String.self), "free")
        XCTAssertEqual(try f.db.query("SELECT api_calls FROM usage_metrics").first?.decode("api_calls", as: Int.self), 0)
        let delivery = try XCTUnwrap(
            f.db.query(
                "SELECT event_type, outcome, processed_at IS NOT NULL AS done FROM webhook_deliveries WHERE svix_id = 'msg_created_1' AND environment = 'production'"
            ).first)
        XCTAssertEqual(try delivery.decode("event_type", as: String.self), "user.created")
        XCTAssertEqual(try delivery.decode("outcome", as: String.self), "processed")
        XCTAssertEqual(try delivery.decode("done", as: Bool.self), true)
        XCTAssertTrue(f.logs.contains("\"message\":\"webhook applied\""))
    }

    func testTheSameDeliveryTwiceChangesNothingTheSecondTime() throws {
        let body = f.userBody(type: "user.created", updatedAt: 1000)
        let first = try f.invoke("onUserCreated", f.signed(body, id: "msg_dup"))
        let before = try f.user()
        // Svix retries with the same id but a new timestamp and signature.
        let again = try f.invoke("onUserCreated", f.signed(body, id: "msg_dup", timestamp: Clock.nowSeconds() + 1))
        XCTAssertEqual(again.status, 200)
        XCTAssertEqual(again.body["status"]?.stringValue, "duplicate")
        XCTAssertEqual(again.body["userId"], first.body["userId"])
        XCTAssertEqual(try f.user(), before, "no column changed, not even updated_at")
        XCTAssertEqual(try f.count("users"), 1)
        XCTAssertEqual(try f.count("subscriptions"), 1)
        XCTAssertEqual(try f.count("webhook_deliveries"), 1)
    }

    func testTwoDeliveriesOfTheSameChangeAreHarmless() throws {
        let body = f.userBody(type: "user.created", updatedAt: 1000)
        XCTAssertEqual(try f.invoke("onUserCreated", f.signed(body)).body["status"]?.stringValue, "processed")
        XCTAssertEqual(try f.invoke("onUserCreated", f.signed(body)).body["status"]?.stringValue, "processed")
        XCTAssertEqual(try f.count("users"), 1)
        XCTAssertEqual(try f.count("subscriptions"), 1)
        XCTAssertEqual(try f.count("usage_metrics"), 1)
    }

    func testTheSameClerkIdInTwoEnvironmentsIsTwoUsers() throws {
        let body = f.userBody(type: "user.created", updatedAt: 1000)
        let prod = try f.invoke("onUserCreated", f.signed(body, secret: f.prodSecret, id: "msg_same"))
        let dev = try f.invoke("onUserCreated", f.signed(body, secret: f.devSecret, id: "msg_same"))
        XCTAssertEqual(prod.body["status"]?.stringValue, "processed")
        XCTAssertEqual(dev.body["status"]?.stringValue, "processed", "the same delivery id in another environment is another delivery")
        XCTAssertNotEqual(prod.body["userId"], dev.body["userId"])
        XCTAssertNotNil(try f.user(environment: "production"))
        XCTAssertNotNil(try f.user(environment: "development"))
        XCTAssertEqual(try f.count("subscriptions"), 2)
    }

    func testRotatedSecretsBothVerify() throws {
        let a = try f.invoke("onUserCreated", f.signed(f.userBody(type: "user.created", id: "user_a", updatedAt: 1), secret: f.prodSecret))
        let b = try f.invoke("onUserCreated", f.signed(f.userBody(type: "user.created", id: "user_b", updatedAt: 1), secret: f.prodSecretNext))
        XCTAssertEqual(a.status, 200)
        XCTAssertEqual(b.status, 200)
    }

    func testBase64BodiesRESTProxyEventsAndHeaderCase() throws {
        let body = f.userBody(type: "user.created", updatedAt: 1000)
        let h = WebhookSigner(secret: try WebhookSecret(f.prodSecret)).headers(id: "msg_rest", timestamp: Clock.nowSeconds(), body: body)
        let rest: JSONValue = .object([
            "resource": .string("/webhooks/clerk/user-created"), "path": .string("/webhooks/clerk/user-created"),
            "httpMethod": .string("POST"),
            "headers": .object([
                "Svix-Id": .string(h["svix-id"]!), "SVIX-TIMESTAMP": .string(h["svix-timestamp"]!),
                "Svix-Signature": .string(h["svix-signature"]!), "Content-Type": .string("application/json")
            ]),
            "requestContext": .object(["requestId": .string("r1")]),
            "body": .string(Base64.encode(body)), "isBase64Encoded": .bool(true)
        ])
        let r = try f.invoke("onUserCreated", Array(rest.serialized().utf8))
        XCTAssertEqual(r.status, 200, "\(r.body)")
        XCTAssertEqual(try f.user()?["email"], "ada@example.com")
    }

    func testMultiByteUTF8AndATrailingNewlineAreSignedAndStoredExactly() throws {
        var body = f.userBody(type: "user.created", updatedAt: 1000, firstName: "Zoë 日本 🚀", email: "zoë@exämple.com")
        body.append(0x0A)
        let r = try f.invoke("onUserCreated", f.signed(body))
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(try f.user()?["first_name"], "Zoë 日本 🚀")
        XCTAssertEqual(try f.user()?["email"], "zoë@exämple.com")
    }

    func testAnotherEventTypeIsIgnoredWith202() throws {
        let r = try f.invoke("onUserCreated", f.signed(f.deletedBody()))
        XCTAssertEqual(r.status, 202)
        XCTAssertEqual(r.body["status"]?.stringValue, "ignored")
        XCTAssertEqual(r.body["type"]?.stringValue, "user.deleted")
        XCTAssertEqual(try f.count("users"), 0)
    }

    func testAFailureMidwayLeavesNothingAndTheRetrySucceeds() throws {
        // A trigger that fails the last insert of the sync: everything before it must roll back.
        try f.db.query(
            """
            CREATE OR REPLACE FUNCTION test_fail_usage() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'injected failure'; END $$
            """)
        try f.db.query("CREATE TRIGGER test_fail_usage BEFORE INSERT ON usage_metrics FOR EACH ROW EXECUTE FUNCTION test_fail_usage()")
        defer { _ = try? f.db.query("DROP TRIGGER IF EXISTS test_fail_usage ON usage_metrics") }
        let body = f.userBody(type: "user.created", updatedAt: 1000)
        let failed = try f.invoke("onUserCreated", f.signed(body, id: "msg_retry"))
        XCTAssertEqual(failed.status, 500)
        XCTAssertEqual(failed.body["error"]?.stringValue, "internal_error")
        XCTAssertEqual(try f.count("users"), 0)
        XCTAssertEqual(try f.count("subscriptions"), 0)
        XCTAssertEqual(try f.count("webhook_deliveries"), 0, "the delivery is not marked processed")
        XCTAssertTrue(f.logs.contains("\"reason\":\"database_error\""))
        try f.db.query("DROP TRIGGER test_fail_usage ON usage_metrics")
        let retried = try f.invoke("onUserCreated", f.signed(body, id: "msg_retry"))
        XCTAssertEqual(retried.body["status"]?.stringValue, "processed")
        XCTAssertEqual(try f.count("usage_metrics"), 1)
    }
}
