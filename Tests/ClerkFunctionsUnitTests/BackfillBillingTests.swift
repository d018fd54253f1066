import ClerkKit
import Store
import XCTest

@testable import ClerkFunctions

/// The billing items list (newest first, no `order_by`, no saved position): paged to the end, each item applied
/// once per pass even when Clerk adds or deletes items between two reads, bad items set aside, an instance
/// without Billing counted.
final class BackfillBillingTests: BackfillTestCase {
    /// A subscription item as the Backend API lists it.
    static func item(_ id: String, created: Int64, user: String = "user_p") -> String {
        #"{"object":"commerce_subscription_item","id":"\#(id)","status":"active","plan":{"slug":"pro","fee":{"amount":2000,"currency":"USD"}},"plan_period":"month","payer":{"id":"cpayer_1","user_id":"\#(user)","organization_id":null},"period_start":1,"period_end":2,"created_at":\#(created),"updated_at":\#(created)}"#
    }

    /// `count` items `csub_item_<i>`, newest first.
    static func items(_ count: Int) -> [String] { (0..<count).reversed().map { item("csub_item_\($0)", created: Int64($0 + 1)) } }

    func testItemsArePagedToTheEndOverlappingByOneEachAppliedOnce() throws {
        clerk.billingItems = Self.items(7)
        let summary = try backfill([.billing])
        XCTAssertTrue(summary.complete)
        XCTAssertEqual(summary.billing.created + summary.billing.updated, 7)
        XCTAssertEqual(runs.billingApplied, (0..<7).reversed().map { "csub_item_\($0)" })
        XCTAssertEqual(clerk.offsets("billing"), [0, 2, 4, 6])
    }

    func testItemsDeletedBetweenTwoReadsMakeNoneSkipped() throws {
        clerk.billingItems = Self.items(7)
        clerk.beforeRead = { [clerk] read in
            // After the first page (items 6, 5, 4), Clerk deletes items 6 and 5: the list moves up under the offset
            // by more than the pages' one-item overlap (offset 2 now begins at item 2, past item 3).
            if read.list == "billing" && read.offset == 2 && clerk.billingItems.count == 7 { clerk.billingItems.removeFirst(2) }
        }
        let summary = try backfill([.billing])
        XCTAssertTrue(summary.complete)
        XCTAssertEqual(Set(runs.billingApplied), Set((0..<7).map { "csub_item_\($0)" }), "none skipped")
        XCTAssertEqual(runs.billingApplied.count, 7, "each once")
    }

    func testItemsAddedWhileThePassRunsAreNotAppliedTwice() throws {
        clerk.billingItems = Self.items(7)
        clerk.beforeRead = { [clerk] read in
            if read.list == "billing" && read.offset == 2 && clerk.billingItems.count == 7 {
                clerk.billingItems.insert(Self.item("csub_item_new", created: 100), at: 0)
            }
        }
        let summary = try backfill([.billing])
        XCTAssertTrue(summary.complete)
        XCTAssertEqual(runs.billingApplied.count, Set(runs.billingApplied).count, "each once")
        XCTAssertEqual(Set(runs.billingApplied).isSuperset(of: (0..<7).map { "csub_item_\($0)" }), true)
    }

    func testABadItemIsSetAsideCountedAndLoggedAndTheRestApplied() throws {
        clerk.billingItems = Self.items(4)
        clerk.billingItems.insert(#"{"id":"csub_item_bad","created_at":50,"plan":"not an object"}"#, at: 2)
        clerk.billingItems.insert(Self.item("csub_item_evil", created: 40, user: "user_'; DROP"), at: 3)
        let summary = try backfill([.billing])
        XCTAssertTrue(summary.complete)
        XCTAssertEqual(summary.billing.created + summary.billing.updated, 4)
        XCTAssertEqual(summary.billing.skipped, 2)
        XCTAssertEqual(Set(runs.state.kept.compactMap(\.clerkId)), ["csub_item_bad", "csub_item_evil"])
        XCTAssertTrue(runs.state.kept.allSatisfy { $0.kind == .billingItem })
        XCTAssertEqual(logs.lines.filter { $0.message == "backfill item skipped" }.count, 2)
    }

    func testAnInstanceWithoutBillingIsCountedAndTheOtherKindsComplete() throws {
        clerk.users = Self.users(2)
        for error in [ClerkAPIError.notFound, .unauthorized(status: 403)] {
            clerk.billingError = error
            let summary = try backfill()
            XCTAssertTrue(summary.complete, "\(error)")
            XCTAssertTrue(summary.billingUnavailable, "\(error)")
        }
        XCTAssertEqual(logs.lines.filter { $0.fields["reason"] == "billing not enabled" }.count, 2)
        clerk.billingError = .unauthorized(status: 401)
        XCTAssertThrowsError(try backfill([.billing]), "a wrong secret is not 'billing not enabled'")
    }
}
