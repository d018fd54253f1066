@testable import ClerkFunctions
import ClerkKit
import JSON
import XCTest

/// Review 19: `CLERK_REQUIRE_ORG` / `CLERK_REQUIRED_PERMISSION` on a route that also accepts machine tokens.
/// Clerk's SDK (`auth.protect({ permission })`, `has()`) grants no organization permission to a machine
/// token; here a user's API key, an OAuth token or an M2M token passes a route that requires one.
extension VerifyTokenMachineTests {
    func testReview19MachineTokensDoNotSlipPastOrganizationGuards() throws {
        let key = "ak_live_review19GuardKey1Aa2Bb3Cc"
        standIn.addUser(id: "user_guarded", email: "guarded@example.com")
        standIn.addMachineToken(.apiKey, token: key, subject: "user_guarded", scopes: ["read"])
        for guardEnv in [["CLERK_REQUIRED_PERMISSION": "org:admin:manage"], ["CLERK_REQUIRE_ORG": "true"]] {
            let h = makeHarness(guardEnv)
            XCTAssertEqual(try direct(key, on: h)["valid"]?.boolValue, false, "api_key past \(guardEnv)")
            XCTAssertEqual(try direct(m2mJWT(), on: h)["valid"]?.boolValue, false, "m2m_token past \(guardEnv)")
            XCTAssertEqual(try direct(oauthJWT(sub: "user_guarded"), on: h)["valid"]?.boolValue, false, "oauth_token past \(guardEnv)")
        }
    }
}
