import LambdaRuntime
import LocalHosting
import Store
import StoreTestSupport
import XCTest

/// Clerk Billing in the store: the rows each event leaves, the tier it gives a user, in any order, redelivered,
/// from two connections at once.
final class BillingStoreTests: XCTestCase {
    var db: PostgresConnection!
    var store: BillingStore!

    override func setUpWithError() throws {
        db = try TestDatabase.connect()
        try TestDatabase.reset(db)
        try db.query("TRUNCATE billing_subscriptions, billing_subscription_items, billing_payment_attempts")
        store = BillingStore(connection: db)
    }

    override func tearDown() {
        store = nil
        db = nil
    }

    static let userPayer = BillingPayer(clerkPayerId: "cpayer_u", clerkUserId: "user_b")

    static func item(
        _ id: String, _ status: String, slug: String, start: Int64, updated: Int64?, payer: BillingPayer? = userPayer,
        name: String? = nil
    ) -> BillingItemRecord {
        BillingItemRecord(
            clerkItemId: id, clerkSubscriptionId: "csub_1", status: status, payer: payer, planId: "cplan_\(slug)", planSlug: slug,
            planName: name ?? slug.capitalized, amount: 1_000, currency: "USD", interval: "month", periodStartMs: start,
            periodEndMs: start + 1_000_000, createdAtMs: 1, updatedAtMs: updated, rawJSON: #"{"id":"\#(id)","status":"\#(status)"}"#)
    }

    static func change(_ delivery: String, _ resource: BillingChange.Resource, type: String = "subscriptionItem.updated")
        -> BillingChange
    {
        BillingChange(eventType: type, deliveryId: delivery, environment: "production", resource: resource)
    }

    @discardableResult
    func apply(_ delivery: String, _ item: BillingItemRecord) throws -> OrganizationSyncResult {
        try store.apply(Self.change(delivery, .item(item)))
    }

    @discardableResult
    func createUser(_ clerkUserId: String = "user_b", delivery: String = "msg_user") throws -> PostgresUUID {
        let result = try UserStore(connection: db).apply(
            UserChange(
                kind: .created, deliveryId: delivery, environment: "production",
                user: UserRecord(clerkUserId: clerkUserId, rawJSON: #"{"id":"\#(clerkUserId)"}"#, createdAtMs: 1, updatedAtMs: 1)))
        return try XCTUnwrap(result.userId)
    }

    func tier(_ clerkUserId: String = "user_b") throws -> String? {
        try XCTUnwrap(UserStore(connection: db).find(clerkUserId: clerkUserId, environment: "production")).tier
    }

    func count(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) throws -> Int {
        try XCTUnwrap(db.query(sql, parameters).first).decode("n", as: Int.self)
    }

    func testUpgradePastDueDowngradeAndEndGiveTheTier() throws {
        let userId = try createUser()
        XCTAssertEqual(try tier(), "free")
        XCTAssertEqual(try apply("d1", Self.item("csub_item_pro", "active", slug: "pro", start: 1_000, updated: 10)).status, .processed)
        XCTAssertEqual(try tier(), "pro")
        // Upgrade: the old item ends, the new one starts later.
        try apply("d2", Self.item("csub_item_pro", "ended", slug: "pro", start: 1_000, updated: 20))
        try apply("d3", Self.item("csub_item_max", "active", slug: "max", start: 2_000, updated: 20))
        XCTAssertEqual(try tier(), "max")
        // Past due keeps the tier and shows as the item's status.
        try apply("d4", Self.item("csub_item_max", "past_due", slug: "max", start: 2_000, updated: 30))
        XCTAssertEqual(try tier(), "max")
        let plan = try XCTUnwrap(store.currentPlan(userId: userId))
        XCTAssertEqual(plan.slug, "max")
        XCTAssertEqual(plan.status, "past_due")
        XCTAssertEqual(plan.periodEndMs, 2_000 + 1_000_000)
        // Downgrade: canceled runs to its period end while the cheaper plan is upcoming.
        try apply("d5", Self.item("csub_item_max", "canceled", slug: "max", start: 2_000, updated: 40))
        try apply("d6", Self.item("csub_item_pro2", "upcoming", slug: "pro", start: 3_000, updated: 40))
        XCTAssertEqual(try tier(), "max")
        try apply("d7", Self.item("csub_item_max", "ended", slug: "max", start: 2_000, updated: 50))
        try apply("d8", Self.item("csub_item_pro2", "active", slug: "pro", start: 3_000, updated: 50))
        XCTAssertEqual(try tier(), "pro")
        // An abandoned or ended plan gives no tier.
        try apply("d9", Self.item("csub_item_pro2", "abandoned", slug: "pro", start: 3_000, updated: 60))
        XCTAssertEqual(try tier(), "free")
        XCTAssertNil(try store.currentPlan(userId: userId))
        XCTAssertEqual(try count("SELECT count(*) AS n FROM outbox WHERE queue = 'billing-events'"), 9)
    }

    func testStaleDuplicateAndNullUpdatedAtChangeNothing() throws {
        try createUser()
        try apply("d1", Self.item("csub_item_a", "active", slug: "pro", start: 1_000, updated: 20))
        XCTAssertEqual(try apply("d1", Self.item("csub_item_a", "ended", slug: "pro", start: 1_000, updated: 30)).status, .duplicate)
        XCTAssertEqual(try apply("d2", Self.item("csub_item_a", "ended", slug: "pro", start: 1_000, updated: 20)).status, .stale)
        XCTAssertEqual(try apply("d3", Self.item("csub_item_a", "ended", slug: "pro", start: 1_000, updated: 10)).status, .stale)
        XCTAssertEqual(try apply("d4", Self.item("csub_item_a", "ended", slug: "pro", start: 1_000, updated: nil)).status, .stale)
        XCTAssertEqual(try tier(), "pro")
        XCTAssertEqual(try count("SELECT count(*) AS n FROM outbox WHERE queue = 'billing-events'"), 1)
        let payload = try XCTUnwrap(db.query("SELECT payload::text AS p FROM outbox WHERE queue = 'billing-events'").first)
            .decode("p", as: String.self)
        XCTAssertTrue(payload.contains(#""clerkUserId": "user_b""#), payload)
        XCTAssertTrue(payload.contains(#""type": "subscriptionItem.updated""#), payload)
    }

    func testWithoutBillingRowsTheTierIsLeftAlone() throws {
        let userId = try createUser()
        try db.query("UPDATE subscriptions SET tier = 'enterprise' WHERE user_id = $1", [userId])
        let attempt = PaymentAttemptRecord(
            clerkAttemptId: "cpa_att_1", paymentId: "cpa_1", status: "failed", payer: Self.userPayer, amount: 500, currency: "USD",
            failedCode: "card_declined", failedDeclineCode: "insufficient_funds", failedAtMs: 5, itemIds: ["csub_item_x"],
            createdAtMs: 1, updatedAtMs: 5, rawJSON: "{}")
        XCTAssertEqual(try store.apply(Self.change("d1", .paymentAttempt(attempt), type: "paymentAttempt.updated")).status, .processed)
        XCTAssertEqual(try tier(), "enterprise")
        XCTAssertNil(try store.currentPlan(userId: userId))
        XCTAssertEqual(try count("SELECT count(*) AS n FROM billing_payment_attempts WHERE user_id IS NOT NULL AND failed_code = 'card_declined'"), 1)
        _ = try createUser("user_other", delivery: "msg_other")
        XCTAssertEqual(try tier("user_other"), "free")
    }

    func testAPayerArrivingAfterItsItemsIsLinked() throws {
        try apply("d1", Self.item("csub_item_a", "active", slug: "pro", start: 1_000, updated: 10))
        XCTAssertEqual(try count("SELECT count(*) AS n FROM billing_subscription_items WHERE user_id IS NULL"), 1)
        let userId = try createUser()
        XCTAssertEqual(try count("SELECT count(*) AS n FROM billing_subscription_items WHERE user_id IS NOT NULL"), 1)
        XCTAssertEqual(try tier(), "pro")
        XCTAssertEqual(try XCTUnwrap(store.currentPlan(userId: userId)).slug, "pro")
        // A token's just-in-time row (the user and its subscription in one statement) gets its tier too.
        try apply("d2", Self.item("csub_item_b", "active", slug: "max", start: 1_000, updated: 10, payer: BillingPayer(clerkUserId: "user_jit")))
        _ = try UserStore(connection: db).findOrCreate(clerkUserId: "user_jit", environment: "production")
        XCTAssertEqual(try tier("user_jit"), "max")
        // An organization payer is linked when its organization arrives.
        try apply("d3", Self.item("csub_item_o", "active", slug: "team", start: 1_000, updated: 10, payer: BillingPayer(clerkOrgId: "org_b")))
        _ = try OrganizationStore(connection: db).apply(
            OrganizationChange(
                kind: .created, deliveryId: "msg_org", environment: "production",
                organization: OrganizationRecord(clerkOrgId: "org_b", name: "B", rawJSON: "{}", createdAtMs: 1, updatedAtMs: 1)))
        XCTAssertEqual(
            try count("SELECT count(*) AS n FROM billing_subscription_items WHERE clerk_org_id = 'org_b' AND organization_id IS NOT NULL"), 1)
    }

    func testASubscriptionAppliesItsItemsWithItsPayer() throws {
        let userId = try createUser()
        var pro = Self.item("csub_item_a", "ended", slug: "pro", start: 1_000, updated: 20, payer: nil)
        pro.clerkSubscriptionId = nil
        let max = Self.item("csub_item_b", "active", slug: "max", start: 2_000, updated: 20, payer: nil)
        let subscription = BillingSubscriptionRecord(
            clerkSubscriptionId: "csub_1", status: "active", payer: Self.userPayer, activeAtMs: 2_000, createdAtMs: 1, updatedAtMs: 20,
            items: [pro, max], rawJSON: #"{"id":"csub_1"}"#)
        let result = try store.apply(Self.change("d1", .subscription(subscription), type: "subscription.updated"))
        XCTAssertEqual(result.status, .processed)
        XCTAssertNotNil(result.id)
        XCTAssertEqual(try tier(), "max")
        XCTAssertEqual(
            try count(
                "SELECT count(*) AS n FROM billing_subscription_items WHERE user_id = $1 AND clerk_user_id = 'user_b' AND clerk_subscription_id = 'csub_1'",
                [userId]), 2)
        XCTAssertEqual(try store.apply(Self.change("d2", .subscription(subscription), type: "subscription.updated")).status, .stale)
    }

    func testANULInAPlanNameIsStoredWithoutIt() throws {
        try createUser()
        var item = Self.item("csub_item_a", "active", slug: "pro", start: 1_000, updated: 10, name: "Pro\u{0}Plan")
        item.rawJSON = #"{"plan":{"name":"Pro\u0000Plan"}}"#
        let result = try apply("d1", item)
        XCTAssertEqual(result.status, .processed)
        XCTAssertEqual(result.nulRemoved, 1)
        let row = try XCTUnwrap(db.query("SELECT plan_name, raw_payload->'plan'->>'name' AS raw FROM billing_subscription_items").first)
        XCTAssertEqual(try row.decode("plan_name", as: String.self), "ProPlan")
        XCTAssertEqual(try row.decode("raw", as: String.self), "ProPlan")
    }

    func testAnAbsurdPeriodIsADataErrorAndLeavesNothing() throws {
        try createUser()
        var item = Self.item("csub_item_a", "active", slug: "pro", start: 1_000, updated: 10)
        item.periodEndMs = Int64.max
        do {
            try apply("d1", item)
            XCTFail("an absurd period was stored")
        } catch let error as PostgresError {
            XCTAssertEqual(error.errorClass, "22", "\(error)")
        }
        XCTAssertEqual(try count("SELECT count(*) AS n FROM webhook_deliveries WHERE svix_id = 'd1'"), 0)
        XCTAssertEqual(try count("SELECT count(*) AS n FROM billing_subscription_items"), 0)
    }
}
