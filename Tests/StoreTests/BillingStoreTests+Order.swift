import LambdaRuntime
import LocalHosting
import Store
import StoreTestSupport
import XCTest

/// One seeded source of shuffles, printed with every failure it causes.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension BillingStoreTests {
    /// One delivery of the sequence: a billing change, or the user's or organization's own event.
    enum Step {
        case billing(BillingChange)
        case user
        case organization
    }

    static func sequence() -> [Step] {
        let teamPayer = BillingPayer(clerkPayerId: "cpayer_o", clerkOrgId: "org_b")
        let a20 = item("csub_item_a", "ended", slug: "pro", start: 1_000, updated: 20, payer: nil)
        let b20 = item("csub_item_b", "active", slug: "max", start: 2_000, updated: 20, payer: nil)
        let b30 = item("csub_item_b", "past_due", slug: "max", start: 2_000, updated: 30, payer: nil)
        func subscription(_ status: String, _ updated: Int64, _ items: [BillingItemRecord]) -> BillingSubscriptionRecord {
            BillingSubscriptionRecord(
                clerkSubscriptionId: "csub_1", status: status, payer: userPayer, createdAtMs: 1, updatedAtMs: updated, items: items,
                rawJSON: #"{"id":"csub_1","status":"\#(status)"}"#)
        }
        func attempt(_ status: String, _ updated: Int64) -> PaymentAttemptRecord {
            PaymentAttemptRecord(
                clerkAttemptId: "cpa_att_1", paymentId: "cpa_1", status: status, payer: userPayer, amount: 2_000, currency: "USD",
                itemIds: ["csub_item_b"], createdAtMs: 1, updatedAtMs: updated, rawJSON: "{}")
        }
        let resources: [BillingChange.Resource] = [
            .item(item("csub_item_a", "active", slug: "pro", start: 1_000, updated: 10)),
            .item(item("csub_item_a", "ended", slug: "pro", start: 1_000, updated: 20)),
            .item(item("csub_item_b", "active", slug: "max", start: 2_000, updated: 20)),
            .subscription(subscription("active", 20, [a20, b20])),
            .item(item("csub_item_b", "past_due", slug: "max", start: 2_000, updated: 30)),
            .subscription(subscription("past_due", 30, [a20, b30])),
            .paymentAttempt(attempt("pending", 1)),
            .paymentAttempt(attempt("failed", 2)),
            .item(item("csub_item_o", "active", slug: "team", start: 1_000, updated: 10, payer: teamPayer))
        ]
        return resources.enumerated().map { .billing(change("ord_\($0.offset)", $0.element)) } + [.user, .organization]
    }

    func run(_ step: Step) throws {
        switch step {
        case .billing(let change): _ = try store.apply(change)
        case .user: try createUser()
        case .organization:
            _ = try OrganizationStore(connection: db).apply(
                OrganizationChange(
                    kind: .created, deliveryId: "msg_org", environment: "production",
                    organization: OrganizationRecord(clerkOrgId: "org_b", name: "B", rawJSON: "{}", createdAtMs: 1, updatedAtMs: 1)))
        }
    }

    /// Every billing row, as text without the row ids and the local times, and the user's tier.
    func snapshot() throws -> String {
        let row = try XCTUnwrap(
            db.query(
                """
                SELECT (SELECT string_agg(concat_ws('|', clerk_item_id, status, plan_slug, clerk_subscription_id,
                                                    coalesce(clerk_user_id, '-'), coalesce(clerk_org_id, '-'), user_id IS NOT NULL, organization_id IS NOT NULL, period_start,
                                                    clerk_updated_at, raw_payload::text), ';' ORDER BY clerk_item_id)
                          FROM billing_subscription_items) || '#' ||
                       (SELECT string_agg(concat_ws('|', clerk_subscription_id, status, clerk_user_id, user_id IS NOT NULL,
                                                    clerk_updated_at, raw_payload::text), ';')
                          FROM billing_subscriptions) || '#' ||
                       (SELECT string_agg(concat_ws('|', clerk_attempt_id, status, user_id IS NOT NULL, clerk_updated_at), ';')
                          FROM billing_payment_attempts) || '#' ||
                       (SELECT s.tier FROM subscriptions s JOIN users u ON u.id = s.user_id WHERE u.clerk_user_id = 'user_b') AS s
                """
            ).first)
        return try row.decode("s", as: String.self)
    }

    func testEveryOrderAndRedeliveryConvergeToTheSameRowsAndTier() throws {
        let steps = Self.sequence()
        for step in steps { try run(step) }
        let expected = try snapshot()
        XCTAssertTrue(expected.hasSuffix("#max"), expected)
        XCTAssertTrue(expected.contains("csub_item_b|past_due|max|csub_1|user_b|-|t|f|"), expected)
        let base = UInt64(Clock.nowMs())
        for round in 0..<12 {
            let seed = base &+ UInt64(round)
            var rng = SplitMix64(state: seed)
            var order = steps.shuffled(using: &rng)
            // Some deliveries again, anywhere (the same delivery id: duplicates).
            for _ in 0..<4 { order.insert(order[Int(rng.next() % UInt64(order.count))], at: Int(rng.next() % UInt64(order.count + 1))) }
            try TestDatabase.reset(db)
            try db.query("TRUNCATE billing_subscriptions, billing_subscription_items, billing_payment_attempts")
            for step in order { try run(step) }
            XCTAssertEqual(try snapshot(), expected, "seed \(seed)")
        }
    }

    /// Two connections with the same delivery, a newer version of the item and another item, held at the user's
    /// lock and let go together: one applies the delivery, the other finds it a duplicate, the newer wins.
    func testConcurrentDeliveriesConverge() throws {
        try createUser()
        let gate = try LockGate(["SELECT clerk_user_link_lock('production', 'user_b')"])
        let changes: [(String, BillingItemRecord)] = [
            ("c1", Self.item("csub_item_a", "active", slug: "pro", start: 1_000, updated: 10)),
            ("c1", Self.item("csub_item_a", "active", slug: "pro", start: 1_000, updated: 10)),
            ("c2", Self.item("csub_item_a", "canceled", slug: "pro", start: 1_000, updated: 20)),
            ("c3", Self.item("csub_item_b", "active", slug: "max", start: 2_000, updated: 15))
        ]
        final class Outcomes: @unchecked Sendable {
            let lock = ConditionLock()
            var statuses: [SyncStatus] = []
        }
        let outcomes = Outcomes()
        let jobs = changes.map { delivery, item in
            BackfillLockTests.Job {
                let result = try BillingStore(connection: PostgresConnection(url: TestDatabase.url)).apply(
                    Self.change(delivery, .item(item)))
                outcomes.lock.withLock { outcomes.statuses.append(result.status) }
            }
        }
        let waiting = try gate.waitForWaiters(4) { jobs.contains { $0.isFinished } }
        XCTAssertEqual(waiting.count, 4, "every delivery waits at the gate: \(waiting)")
        try gate.release()
        for job in jobs { XCTAssertNil(job.result()) }
        let statuses = outcomes.lock.withLock { outcomes.statuses }
        XCTAssertEqual(statuses.filter { $0 == .duplicate }.count, 1, "\(statuses)")
        XCTAssertEqual(
            try count("SELECT count(*) AS n FROM billing_subscription_items WHERE clerk_item_id = 'csub_item_a' AND status = 'canceled'"), 1)
        XCTAssertEqual(try tier(), "max")
    }

    /// A user row inserted while its first item is applied: whichever commits second links the other.
    func testAUserInsertedBesideItsItemIsLinked() throws {
        let gate = try LockGate(["SELECT clerk_user_link_lock('production', 'user_b')"])
        let item = BackfillLockTests.Job {
            _ = try BillingStore(connection: PostgresConnection(url: TestDatabase.url)).apply(
                Self.change("c1", .item(Self.item("csub_item_a", "active", slug: "pro", start: 1_000, updated: 10))))
        }
        let user = BackfillLockTests.Job {
            _ = try UserStore(connection: PostgresConnection(url: TestDatabase.url)).findOrCreate(
                clerkUserId: "user_b", environment: "production")
        }
        let waiting = try gate.waitForWaiters(2) { item.isFinished || user.isFinished }
        XCTAssertEqual(waiting.count, 2, "both wait at the gate: \(waiting)")
        try gate.release()
        XCTAssertNil(item.result())
        XCTAssertNil(user.result())
        XCTAssertEqual(try count("SELECT count(*) AS n FROM billing_subscription_items WHERE user_id IS NOT NULL"), 1)
        XCTAssertEqual(try tier(), "pro")
    }
}
