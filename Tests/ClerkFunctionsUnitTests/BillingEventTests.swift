import Foundation
import JSON
import Store
import XCTest

@testable import ClerkFunctions

/// Clerk Billing on the one event path: Clerk's own example payloads (events/payloads/billing/, copied from
/// `webhooks/2025-04-15.yml`) read through the registry and mapped to the store's records, by `clerkWebhook`
/// and by `onBillingEvent` alike.
final class BillingEventTests: XCTestCase {
    let store = InMemoryEventStore()

    static let examples: [(type: String, body: String)] = {
        let dir = #filePath.replacingOccurrences(of: "Tests/ClerkFunctionsUnitTests/BillingEventTests.swift", with: "events/payloads/billing")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.sorted().filter { $0.hasSuffix(".json") }.compactMap { name in
            guard let body = try? String(contentsOfFile: dir + "/" + name, encoding: .utf8) else { return nil }
            return (String(name.dropLast(5)), body)
        }
    }()

    func deliver(_ body: String, to function: String, id: String = "msg_b") -> DeliveryOutcome {
        WebhookHandler(accepted: EventRegistry.accepted(by: function), store: store, issuer: nil).deliver(
            Delivery(id: id, environment: "production", body: Array(body.utf8), source: .webhook), context: unitContext(),
            logger: unitContext().logger)
    }

    func testEveryOneOfClerksExamplesIsAppliedByBothFunctions() throws {
        XCTAssertEqual(Self.examples.count, 16, "one example per event type")
        for (i, example) in Self.examples.enumerated() {
            for function in ["clerkWebhook", "onBillingEvent"] {
                let outcome = deliver(example.body, to: function, id: "msg_\(function)_\(i)")
                guard case .applied(let type, let change, _, nil) = outcome else { return XCTFail("\(example.type) \(function): \(outcome)") }
                XCTAssertEqual(type, example.type)
                XCTAssertEqual(outcome.status, 200)
                XCTAssertNotEqual(change.status, .duplicate, example.type)
            }
        }
    }

    func testAnItemCarriesItsPlanPayerAndPeriod() throws {
        let body = try XCTUnwrap(Self.examples.first { $0.type == "subscriptionItem.active" }).body
        _ = deliver(body, to: "onBillingEvent")
        let change = try XCTUnwrap(store.applied.last as? BillingChange)
        guard case .item(let item) = change.resource else { return XCTFail("\(change.resource)") }
        XCTAssertEqual(item.status, "active")
        XCTAssertEqual(item.planSlug, "pro-plan")
        XCTAssertEqual(item.amount, 2000)
        XCTAssertEqual(item.currency, "USD")
        XCTAssertEqual(item.interval, "month")
        XCTAssertEqual(item.periodEndMs, 1_719_561_600_000)
        XCTAssertEqual(item.payer?.clerkUserId, "user_34D368EufHwugfYh4yyGNEheM0S")
        XCTAssertNil(item.payer?.clerkOrgId, "Clerk's empty organization_id is no organization")
        XCTAssertEqual(item.clerkSubscriptionId, "csub_2g7np7Hrk0SN6kj5EDMLDaKNL0S")
        XCTAssertEqual(change.eventType, "subscriptionItem.active")
    }

    func testASubscriptionsItemsTakeItsPayerAndIdAndTheirOwnJSON() throws {
        let body = try XCTUnwrap(Self.examples.first { $0.type == "subscription.active" }).body
        _ = deliver(body, to: "onBillingEvent")
        let change = try XCTUnwrap(store.applied.last as? BillingChange)
        guard case .subscription(let subscription) = change.resource else { return XCTFail("\(change.resource)") }
        XCTAssertEqual(subscription.status, "active")
        XCTAssertFalse(subscription.items.isEmpty)
        for item in subscription.items {
            XCTAssertEqual(item.payer, subscription.payer)
            XCTAssertEqual(item.clerkSubscriptionId, subscription.clerkSubscriptionId)
            let json = try JSONValue.parseStrict(Array(item.rawJSON.utf8))
            XCTAssertEqual(json["id"]?.stringValue, item.clerkItemId, "the item's own JSON, cut from the subscription")
        }
    }

    func testAPaymentAttemptCarriesItsTotalAndItems() throws {
        let body = try XCTUnwrap(Self.examples.first { $0.type == "paymentAttempt.updated" }).body
        _ = deliver(body, to: "clerkWebhook")
        let change = try XCTUnwrap(store.applied.last as? BillingChange)
        guard case .paymentAttempt(let attempt) = change.resource else { return XCTFail("\(change.resource)") }
        let data = try XCTUnwrap(JSONValue.parseStrict(Array(body.utf8))["data"])
        XCTAssertEqual(attempt.status, data["status"]?.stringValue)
        XCTAssertEqual(attempt.amount.map(Double.init), data["totals"]?["grand_total"]?["amount"]?.doubleValue)
        XCTAssertFalse(attempt.itemIds.isEmpty)
    }

    func testTheBillingFunctionTakesOnlyBillingAndTheEnvelopeSecondsBecomeMilliseconds() throws {
        let user = #"{"type":"user.updated","timestamp":1,"data":{"id":"user_1","email_addresses":[],"updated_at":1}}"#
        XCTAssertEqual(deliver(user, to: "onBillingEvent"), .ignored(type: "user.updated"))
        XCTAssertEqual(BillingChange.envelopeMs(1_716_883_200), 1_716_883_200_000)
        XCTAssertEqual(BillingChange.envelopeMs(1_716_883_200_000), 1_716_883_200_000)
        let noUpdatedAt = #"{"type":"subscriptionItem.updated","timestamp":1716883200,"data":{"id":"csub_item_1","status":"active"}}"#
        _ = deliver(noUpdatedAt, to: "onBillingEvent")
        let change = try XCTUnwrap(store.applied.last as? BillingChange)
        guard case .item(let item) = change.resource else { return XCTFail() }
        XCTAssertEqual(item.updatedAtMs, 1_716_883_200_000)
    }

    func testAMalformedBillingBodyIs400NotACrash() {
        for body in [
            #"{"type":"subscriptionItem.active","data":{"status":"active"}}"#,  // no id
            #"{"type":"subscription.active","data":{"id":"csub_1","status":5}}"#,
            #"{"type":"paymentAttempt.created","data":{"id":"pa_1","status":"paid","totals":{"grand_total":{"amount":"12"}}}}"#,
            #"{"type":"subscriptionItem.active","data":{"id":"csub_item_1","status":"active","plan":{"amount":1e300}}}"#
        ] {
            let outcome = deliver(body, to: "clerkWebhook")
            guard case .failed(_, let failure) = outcome else { return XCTFail("\(body): \(outcome)") }
            XCTAssertEqual(failure.code, .malformedJSON, body)
        }
    }
}
