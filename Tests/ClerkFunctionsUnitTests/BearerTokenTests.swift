import XCTest

@testable import ClerkFunctions

/// One reader of where a token travels, for `verifyToken` and `me` alike.
final class BearerTokenTests: XCTestCase {
    func testTheBearerSchemeInAnyCaseWithSpacesTrimmed() {
        XCTAssertEqual(BearerToken.fromAuthorization("Bearer abc"), "abc")
        XCTAssertEqual(BearerToken.fromAuthorization("  bEARER   abc  "), "abc")
        for refused in [nil, "", "Bearer", "Bearer    ", "Basic abc", "Bearerabc", "abc"] {
            XCTAssertNil(BearerToken.fromAuthorization(refused), "\(refused.debugDescription)")
        }
    }

    func testTheSessionCookieFromAnyEntryOfTheList() {
        XCTAssertEqual(BearerToken.sessionCookie(["a=1; __session=tok; b=2"]), "tok")
        XCTAssertEqual(BearerToken.sessionCookie(["a=1", " __session = tok "]), "tok")
        XCTAssertEqual(BearerToken.sessionCookie(["__session=a=b"]), "a=b", "a value may hold =")
        XCTAssertNil(BearerToken.sessionCookie(["__session=", "session=x", "__session_other=y", ";;"]))
    }

    func testTheHeaderWinsOverTheCookie() {
        XCTAssertEqual(BearerToken.find(authorization: "Bearer h", cookies: ["__session=c"]), "h")
        XCTAssertEqual(BearerToken.find(authorization: "Basic x", cookies: ["__session=c"]), "c")
        XCTAssertNil(BearerToken.find(authorization: nil, cookies: []))
    }
}
