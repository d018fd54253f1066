import ClerkFunctions
import JSON
import LambdaRuntime
import LocalHosting
import Store
import TestSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// `verifyToken` with a secret key: a user the database does not know is asked of Clerk's Backend API.
final class VerifyTokenClerkFillTests: XCTestCase {
    var tokens: TokenFixture!
    var db: PostgresConnection!
    var standIn: ClerkAPIStandIn!
    var harness: LocalHarness!

    // XCTest keeps every test case alive until the run ends: release its connections and servers now.
    override func tearDown() {
        tokens = nil
        db = nil
        standIn = nil
        harness = nil
    }

    override func setUpWithError() throws {
        tokens = try TokenFixture()
        db = try TestDatabase.connect()
        try TestDatabase.reset(db)
        standIn = try ClerkAPIStandIn()
        harness = LocalHarness(
            registry: Functions.registry,
            environment: Environment([
                "DATABASE_URL": TestDatabase.url, "PROD_CLERK_ISSUER": tokens.issuer, "PROD_CLERK_JWKS_URL": tokens.jwksURL,
                "PROD_CLERK_SECRET_KEY": standIn.secretKey, "CLERK_API_URL": standIn.baseURL
            ]), logger: Logger(level: .critical))
    }

    func check(_ sub: String) throws -> JSONValue {
        try JSONValue.parse(harness.invoke("verifyToken", event: Array(#"{"token":"\#(try tokens.token(sub: sub))"}"#.utf8)))
    }

    var userCalls: Int { standIn.requests.filter { $0.path.hasPrefix("/v1/users/") }.count }

    func testAUserClerkKnowsIsFilledFromTheBackendAPIOnce() throws {
        standIn.addUser(
            id: "user_fill", email: "fill@example.com", firstName: "Grace", lastName: "Hopper", username: "grace",
            createdAt: 1_735_000_000_000, updatedAt: 1_735_000_000_500)
        XCTAssertEqual(try check("user_fill")["valid"]?.boolValue, true)
        let row = try XCTUnwrap(
            db.query(
                """
                SELECT email, first_name, last_name, username, (extract(epoch FROM clerk_updated_at) * 1000)::bigint AS updated
                  FROM users WHERE clerk_user_id = 'user_fill'
                """
            ).first)
        XCTAssertEqual(try row.decode("email", as: String.self), "fill@example.com")
        XCTAssertEqual(try row.decode("first_name", as: String.self), "Grace")
        XCTAssertEqual(try row.decode("username", as: String.self), "grace")
        XCTAssertEqual(try row.decode("updated", as: Int64.self), 1_735_000_000_500)
        XCTAssertEqual(try db.query("SELECT count(*) AS n FROM subscriptions").first?.decode("n", as: Int.self), 1)
        XCTAssertEqual(try db.query("SELECT count(*) AS n FROM outbox WHERE payload ->> 'type' = 'user.created'").first?.decode("n", as: Int.self), 1)
        XCTAssertEqual(try check("user_fill")["valid"]?.boolValue, true)
        XCTAssertEqual(userCalls, 1, "a known user costs no second call")
    }

    func testAUserClerkDoesNotHaveIsRefusedAndTheAnswerIsRemembered() throws {
        let out = try check("user_ghost")
        XCTAssertEqual(out["valid"]?.boolValue, false)
        XCTAssertEqual(out["reason"]?.stringValue, "user_not_found")
        XCTAssertEqual(try db.query("SELECT count(*) AS n FROM users").first?.decode("n", as: Int.self), 0, "no row for a ghost")
        _ = try check("user_ghost")
        XCTAssertEqual(userCalls, 1, "the 404 is cached for the warm container")
    }

    func testAnOutageFallsBackToTheMinimalRowSoNobodyIsSignedOut() throws {
        for _ in 0..<20 { standIn.cue(503) }
        let out = try check("user_during_outage")
        XCTAssertEqual(out["valid"]?.boolValue, true)
        let row = try XCTUnwrap(db.query("SELECT email FROM users WHERE clerk_user_id = 'user_during_outage'").first)
        XCTAssertNil(try row.decodeIfPresent("email", as: String.self))
    }
}
