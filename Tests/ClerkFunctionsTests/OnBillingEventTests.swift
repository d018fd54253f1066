import ClerkFunctions
import JSON
import LambdaRuntime
import LocalHosting
import Store
import TestSupport
import XCTest

/// `onBillingEvent` (and `clerkWebhook`): Clerk Billing through the one event path into PostgreSQL. Clerk's own
/// example payloads (events/payloads/billing/) apply and the rows hold what they say; a user's tier follows an
/// upgrade, a past-due, a downgrade and an ended item, in any delivery order, and `me` shows the plan.
final class OnBillingEventTests: XCTestCase {
    var f: WebhookFixture!

    override func setUpWithError() throws { f = try WebhookFixture() }
    override func tearDown() { f = nil }

    static let types = [
        "subscription.created", "subscription.updated", "subscription.active", "subscription.pastDue",
        "subscriptionItem.created", "subscriptionItem.updated", "subscriptionItem.active", "subscriptionItem.canceled",
        "subscriptionItem.upcoming", "subscriptionItem.ended", "subscriptionItem.abandoned", "subscriptionItem.incomplete",
        "subscriptionItem.pastDue", "subscriptionItem.freeTrialEnding", "paymentAttempt.created", "paymentAttempt.updated"
    ]

    func count(_ sql: String) throws -> Int { try f.db.query(sql).first?.decode("n", as: Int.self) ?? -1 }

    func tier(_ clerkUserId: String) throws -> String? {
        try f.db.query(
            "SELECT s.tier FROM subscriptions s JOIN users u ON u.id = s.user_id WHERE u.clerk_user_id = $1", [clerkUserId]
        ).first?.decode("tier", as: String.self)
    }

    func testEveryOneOfClerksExamplesAppliesThroughBothFunctions() throws {
        for (i, type) in Self.types.enumerated() {
            let body = try f.payload("billing/\(type).json")
            for function in ["onBillingEvent", "clerkWebhook"] {
                let r = try f.invoke(function, f.signed(body, id: "msg_billing_\(i)_\(function)"))
                XCTAssertEqual(r.status, 200, "\(type) \(function): \(r.body)")
                XCTAssertNotNil(r.body["status"]?.stringValue, "\(type)")
            }
        }
        XCTAssertEqual(try count("SELECT count(*) AS n FROM billing_subscriptions"), 1)
        XCTAssertGreaterThanOrEqual(try count("SELECT count(*) AS n FROM billing_subscription_items"), 1)
        XCTAssertEqual(try count("SELECT count(*) AS n FROM billing_payment_attempts"), 1)
        let item = try XCTUnwrap(
            f.db.query("SELECT plan_slug, amount, currency, clerk_user_id FROM billing_subscription_items WHERE plan_slug IS NOT NULL LIMIT 1").first)
        XCTAssertFalse(try item.decode("plan_slug", as: String.self).isEmpty)
        XCTAssertEqual(try item.decode("currency", as: String.self), "USD")
        XCTAssertGreaterThan(try count("SELECT count(*) AS n FROM outbox WHERE queue = 'billing-events'"), 0)
    }

    /// An item's versions, as Clerk sends them for one user: pro, then past due, then premium, then ended.
    func item(_ status: String, slug: String, updatedAt: Int64, user: String = "user_bill") -> [UInt8] {
        Array(
            #"""
            {"type":"subscriptionItem.updated","timestamp":\#(updatedAt),"object":"event","data":{"id":"csub_item_bill","status":"\#(status)",
            "is_free_trial":false,"created_at":1,"updated_at":\#(updatedAt),"period_start":1,"period_end":2000000000000,"interval":"month",
            "plan_id":"cplan_\#(slug)","plan":{"id":"cplan_\#(slug)","slug":"\#(slug)","name":"\#(slug)","is_recurring":true,"amount":2000,"currency":"USD"},
            "payer":{"id":"cpayer_1","user_id":"\#(user)","organization_id":""},"subscription_id":"csub_bill"}}
            """#.utf8)
    }

    func testTheTierFollowsTheUsersItemInAnyOrderAndMeShowsThePlan() throws {
        let versions = [
            item("active", slug: "pro", updatedAt: 10), item("past_due", slug: "pro", updatedAt: 20),
            item("active", slug: "premium", updatedAt: 30), item("ended", slug: "premium", updatedAt: 40)
        ]
        var seed: UInt64 = UInt64(Clock.nowMs())
        print("OnBillingEventTests seed \(seed)")
        for round in 0..<4 {
            try TestDatabase.reset(f.db)
            XCTAssertEqual(try f.invoke("onUserCreated", f.signed(f.userBody(type: "user.created", id: "user_bill", updatedAt: 1))).status, 200)
            var order = Array(versions.indices) + [Int(seed % 4)]  // and one redelivery
            for i in stride(from: order.count - 1, to: 0, by: -1) {
                seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                order.swapAt(i, Int((seed >> 33) % UInt64(i + 1)))
            }
            for (n, v) in order.enumerated() {
                let r = try f.invoke("onBillingEvent", f.signed(versions[v], id: "msg_tier_\(v)_\(n == order.count - 1 ? "again" : "")"))
                XCTAssertEqual(r.status, 200, "round \(round) seed \(seed): \(r.body)")
            }
            XCTAssertEqual(try tier("user_bill"), "free", "round \(round), order \(order): the item ended last")
        }
        // Now in order, looking after each step.
        try TestDatabase.reset(f.db)
        _ = try f.invoke("onUserCreated", f.signed(f.userBody(type: "user.created", id: "user_bill", updatedAt: 1)))
        for (v, expected) in zip(versions, ["pro", "pro", "premium", "free"]) {
            _ = try f.invoke("onBillingEvent", f.signed(v))
            XCTAssertEqual(try tier("user_bill"), expected)
        }
        XCTAssertEqual(
            try f.db.query("SELECT status FROM billing_subscription_items WHERE clerk_item_id = 'csub_item_bill'").first?.decode(
                "status", as: String.self),
            "ended")
    }
}
