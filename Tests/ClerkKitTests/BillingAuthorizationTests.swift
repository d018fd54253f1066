import XCTest

@testable import ClerkKit

/// `has({ plan })` and `has({ feature })` as Clerk's JavaScript SDK reads `pla` and `fea` (authorization.ts,
/// its fail-closed version).
final class BillingAuthorizationTests: XCTestCase {
    func requirement(_ text: String) throws -> BillingAuthorization.Requirement {
        try XCTUnwrap(BillingAuthorization.Requirement(text), text)
    }

    func testABareSlugMatchesEitherScopeAndAScopedOneOnlyItsOwn() throws {
        XCTAssertTrue(BillingAuthorization.grants("u:pro", try requirement("pro")))
        XCTAssertTrue(BillingAuthorization.grants("o:pro", try requirement("pro")))
        XCTAssertTrue(BillingAuthorization.grants("o:pro", try requirement("org:pro")))
        XCTAssertTrue(BillingAuthorization.grants("o:pro", try requirement("o:pro")))
        XCTAssertTrue(BillingAuthorization.grants("o:pro", try requirement("organization:pro")))
        XCTAssertFalse(BillingAuthorization.grants("o:pro", try requirement("user:pro")))
        XCTAssertTrue(BillingAuthorization.grants("u:pro", try requirement("u:pro")))
        XCTAssertFalse(BillingAuthorization.grants("u:pro", try requirement("org:pro")))
        XCTAssertTrue(BillingAuthorization.grants("ou:reports", try requirement("user:reports")))
        XCTAssertTrue(BillingAuthorization.grants("uo:reports", try requirement("org:reports")))
    }

    func testListsAreReadWhole() throws {
        XCTAssertTrue(BillingAuthorization.grants("u:free, o:pro", try requirement("org:pro")))
        XCTAssertTrue(BillingAuthorization.grants("o:dashboard,o:impersonation", try requirement("impersonation")))
        XCTAssertFalse(BillingAuthorization.grants("o:dashboard,o:impersonation", try requirement("export")))
        XCTAssertFalse(BillingAuthorization.grants("x:pro", try requirement("pro")), "an unknown scope grants nothing")
    }

    func testAnAbsentEmptyOrUnreadableClaimGrantsNothing() throws {
        for claim in [nil, "", "pro", "u:pro,pro", "u:pro,,o:x"] as [String?] {
            XCTAssertFalse(BillingAuthorization.grants(claim, try requirement("pro")), "\(claim.debugDescription)")
        }
    }

    func testARequirementWithAnUnknownScopeIsRefusedAtConfiguration() {
        for bad in ["", "team:pro", "org:", ":pro"] {
            XCTAssertNil(BillingAuthorization.Requirement(bad), bad)
        }
    }
}
