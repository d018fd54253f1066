import ClerkFunctions
import JSON
import Store
import XCTest

/// `backfillClerk` over Clerk Billing's subscription items (`GET /v1/billing/subscription_items`, newest first).
extension BackfillClerkTests {
    func tier(_ clerkUserId: String) throws -> String? {
        try db.query(
            "SELECT s.tier FROM subscriptions s JOIN users u ON u.id = s.user_id WHERE u.clerk_user_id = $1", [clerkUserId]
        ).first?.decode("tier", as: String.self)
    }

    func testBillingItemsOfTwoUsersAndAnOrganizationAreAppliedAfterTheOrganizationsAndTheTiersFollow() throws {
        standIn.addUser(id: "user_b1", email: "b1@example.com")
        standIn.addUser(id: "user_b2", email: "b2@example.com")
        standIn.addOrganization(id: "org_b", name: "B", slug: "b", members: [("orgmem_b", "user_b1", "org:admin")])
        standIn.addBillingItem(id: "csub_item_b1", status: "active", userId: "user_b1", planSlug: "pro", createdAt: 1_735_732_800_001)
        // user_b2: an ended pro item, then the team plan now.
        standIn.addBillingItem(
            id: "csub_item_b2old", status: "ended", userId: "user_b2", planSlug: "pro", periodStart: 1_700_000_000_000,
            periodEnd: 1_735_732_800_000, createdAt: 1_735_732_800_002)
        standIn.addBillingItem(id: "csub_item_b2", status: "active", userId: "user_b2", planSlug: "team", createdAt: 1_735_732_800_003)
        standIn.addBillingItem(id: "csub_item_org", status: "active", orgId: "org_b", planSlug: "business", createdAt: 1_735_732_800_004)
        standIn.addRawBillingItem(json: #"{"id":"csub_item_bad","status":7,"created_at":1735732800005}"#, createdAt: 1_735_732_800_005)
        let summary = try XCTUnwrap(try invoke()["production"])
        XCTAssertEqual(summary["complete"]?.boolValue, true)
        XCTAssertEqual(summary["billing"]?["updated"]?.doubleValue, 4)
        XCTAssertEqual(summary["billing"]?["skipped"]?.doubleValue, 1)
        XCTAssertEqual(summary["billingUnavailable"]?.boolValue, false)
        XCTAssertEqual(try tier("user_b1"), "pro")
        XCTAssertEqual(try tier("user_b2"), "team")
        XCTAssertEqual(
            try count(
                """
                SELECT count(*) AS n FROM billing_subscription_items i JOIN organizations o ON o.id = i.organization_id
                 WHERE i.clerk_item_id = 'csub_item_org' AND o.clerk_org_id = 'org_b' AND i.plan_slug = 'business'
                   AND i.amount = 2000 AND i.currency = 'USD' AND i.interval = 'month'
                """), 1)
        XCTAssertEqual(try count("SELECT count(*) AS n FROM queue_rejects WHERE message_id = 'production/billing_item/csub_item_bad'"), 1)
        let paths = standIn.requests.map(\.path)
        let firstBilling = try XCTUnwrap(paths.firstIndex { $0.hasPrefix("/v1/billing/subscription_items") })
        let lastOrganizations = try XCTUnwrap(paths.lastIndex { $0.hasPrefix("/v1/organizations") })
        XCTAssertLessThan(lastOrganizations, firstBilling, "billing after the organizations")
        XCTAssertTrue(paths[firstBilling].contains("include_free=true"))
        // Again with only billing: nothing new, the tiers stay.
        let again = try XCTUnwrap(try invoke(#"{"only":"billing"}"#)["production"])
        XCTAssertEqual(again["billing"]?["skipped"]?.doubleValue, 1)
        XCTAssertEqual(try count("SELECT count(*) AS n FROM billing_subscription_items"), 4)
        XCTAssertEqual(try tier("user_b2"), "team")
    }

    func testAnInstanceWithoutBillingStillBackfillsUsersAndOrganizations() throws {
        standIn.billingEnabled = false
        standIn.addUser(id: "user_nb", email: "nb@example.com")
        standIn.addOrganization(id: "org_nb", name: "NB", slug: "nb", members: [("orgmem_nb", "user_nb", "org:admin")])
        let summary = try XCTUnwrap(try invoke()["production"])
        XCTAssertEqual(summary["complete"]?.boolValue, true)
        XCTAssertEqual(summary["billingUnavailable"]?.boolValue, true)
        XCTAssertEqual(summary["users"]?["created"]?.doubleValue, 1)
        XCTAssertEqual(summary["organizations"]?["created"]?.doubleValue, 1)
        let only = try XCTUnwrap(try invoke(#"{"only":"billing"}"#)["production"])
        XCTAssertEqual(only["billingUnavailable"]?.boolValue, true)
        XCTAssertEqual(only["complete"]?.boolValue, true)
    }
}
