import ClerkKit
import DevTools
import JSON
import Store
import XCTest

@testable import ClerkFunctions

/// `me`'s decisions with the users in memory and tokens signed by a key made for the run: which profile, which
/// refusal, which status. The integration tier runs the same paths on PostgreSQL behind a real authorizer (`MeTests`).
final class MeHandlerTests: XCTestCase {
    let users = InMemoryUsers()

    func me(_ event: String, verifier: TokenVerifier? = nil, accepted: Set<ClerkTokenType> = [.sessionToken]) throws -> (status: Int, body: JSONValue)
    {
        let function = MeFunction(profiles: users, verifier: verifier, accepted: accepted)
        return try UnitAnswers.http(function.handle(Array(event.utf8), context: unitContext()))
    }

    /// An HTTP API (payload 2.0) `GET /me`, with an authorizer context and a bearer token when given.
    static func request(authorizer: [String: String]? = nil, bearer: String? = nil) -> String {
        let context =
            authorizer.map { a in
                #","authorizer":{"lambda":{"# + a.sorted { $0.key < $1.key }.map { #""\#($0.key)":"\#($0.value)""# }.joined(separator: ",") + "}}"
            } ?? ""
        let auth = bearer.map { #""authorization":"Bearer \#($0)""# } ?? ""
        return
            #"{"version":"2.0","routeKey":"GET /me","rawPath":"/me","headers":{\#(auth)},"requestContext":{"http":{"method":"GET","path":"/me"},"requestId":"r"\#(context)},"isBase64Encoded":false}"#
    }

    func testTheAuthorizersUserGetsTheProfileWithItsOrganizations() throws {
        let user = users.add("user_1", email: "ada@example.com")
        users.memberships[user.id] = [
            StoredMembership(clerkOrgId: "org_1", slug: "acme", name: "Acme", role: "org:admin"),
            StoredMembership(clerkOrgId: "org_2", role: "org:member")
        ]
        let r = try me(Self.request(authorizer: ["userId": user.id.postgresText, "tokenType": "session_token"]))
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.body["id"]?.stringValue, user.id.postgresText)
        XCTAssertEqual(r.body["clerkUserId"]?.stringValue, "user_1")
        XCTAssertEqual(r.body["environment"]?.stringValue, "production")
        XCTAssertEqual(r.body["email"]?.stringValue, "ada@example.com")
        XCTAssertEqual(r.body["tier"]?.stringValue, "free")
        XCTAssertEqual(r.body["createdAt"], .number(1_000))
        guard case .array(let organizations)? = r.body["organizations"] else { return XCTFail("\(r.body)") }
        XCTAssertEqual(organizations.map { $0["id"]?.stringValue }, ["org_1", "org_2"])
        XCTAssertEqual(organizations.first?["slug"]?.stringValue, "acme")
        XCTAssertEqual(organizations.first?["role"]?.stringValue, "org:admin")
    }

    /// Issue 21: the user's Clerk Billing plan, its status (a past-due one shows as such) and period end.
    func testThePlanShowsWithItsStatusAndPeriodEndAndIsAbsentWithoutOne() throws {
        let paying = users.add("user_paying")
        users.plans[paying.id] = CurrentPlan(slug: "pro", status: "past_due", periodEnd: 2_000_000_000_000)
        let r = try me(Self.request(authorizer: ["userId": paying.id.postgresText, "tokenType": "session_token"]))
        XCTAssertEqual(r.body["plan"]?["slug"]?.stringValue, "pro")
        XCTAssertEqual(r.body["plan"]?["status"]?.stringValue, "past_due")
        XCTAssertEqual(r.body["plan"]?["periodEnd"], .number(2_000_000_000_000))
        let free = users.add("user_free")
        XCTAssertNil(try me(Self.request(authorizer: ["userId": free.id.postgresText, "tokenType": "session_token"])).body["plan"])
    }

    func testADeletedUserAndAnUnknownOneAre404WithTheirReason() throws {
        let gone = users.add("user_gone", deleted: true)
        let deleted = try me(Self.request(authorizer: ["userId": gone.id.postgresText, "tokenType": "session_token"]))
        XCTAssertEqual(deleted.status, 404)
        XCTAssertEqual(deleted.body["error"]?.stringValue, "user_deleted")
        let unknown = try me(Self.request(authorizer: ["userId": InMemoryEventStore.uuid(99).postgresText, "tokenType": "session_token"]))
        XCTAssertEqual(unknown.status, 404)
        XCTAssertEqual(unknown.body["error"]?.stringValue, "user_not_found")
    }

    func testADatabaseAwayIs503() throws {
        let user = users.add("user_1")
        for failure in [PostgresError.connectionLost("gone"), .query(sqlState: "57P01", message: "shutting down")] {
            users.failure = failure
            let r = try me(Self.request(authorizer: ["userId": user.id.postgresText, "tokenType": "session_token"]))
            XCTAssertEqual(r.status, 503, "\(failure)")
            XCTAssertEqual(r.body["error"]?.stringValue, "database_unavailable")
        }
    }

    func testAnAuthorizerContextWithoutAnAcceptedTokenTypeIs403() throws {
        let user = users.add("user_1")
        let missing = try me(Self.request(authorizer: ["userId": user.id.postgresText, "clerkUserId": "user_1"]))
        XCTAssertEqual(missing.status, 403)
        XCTAssertEqual(missing.body["error"]?.stringValue, "token_type_missing")
        for type in ["api_key", "oauth_token", "m2m_token", "session", ""] {
            let refused = try me(Self.request(authorizer: ["userId": user.id.postgresText, "tokenType": type]))
            XCTAssertEqual(refused.status, 403, type)
            XCTAssertEqual(refused.body["error"]?.stringValue, type.isEmpty ? "token_type_missing" : "token_type_not_accepted", type)
        }
        // The types its own setting names are served.
        let key = try me(Self.request(authorizer: ["userId": user.id.postgresText, "tokenType": "api_key"]), accepted: [.sessionToken, .apiKey])
        XCTAssertEqual(key.status, 200)
    }

    func testWithoutAnAuthorizerOrTokenSettingsIs401() throws {
        users.add("user_1")
        for event in [
            Self.request(), Self.request(bearer: try UnitTokens.session("user_1")),
            Self.request(authorizer: ["userId": "not-a-uuid", "tokenType": "session_token"])
        ] {
            let r = try me(event)
            XCTAssertEqual(r.status, 401)
            XCTAssertEqual(r.body["error"]?.stringValue, "unauthorized")
        }
    }

    func testAnEventThatIsNotAnHTTPRequestIs400() throws {
        for event in ["{", "[]", #"{"token":"x"}"#, #"{"version":"2.0","requestContext":{}}"#] {
            let r = try me(event)
            XCTAssertEqual(r.status, 400, event)
            XCTAssertEqual(r.body["error"]?.stringValue, "malformed_request", event)
        }
    }

    func testABearerSessionTokenIsVerifiedHereWithoutTheAuthorizer() throws {
        let user = users.add("user_1", email: "ada@example.com")
        let r = try me(Self.request(bearer: try UnitTokens.session("user_1")), verifier: try UnitTokens.verifier())
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.body["id"]?.stringValue, user.id.postgresText)
        let unknown = try me(Self.request(bearer: try UnitTokens.session("user_nobody")), verifier: try UnitTokens.verifier())
        XCTAssertEqual(unknown.status, 404, "a verified token names no row: me creates none")
        XCTAssertEqual(unknown.body["error"]?.stringValue, "user_not_found")
    }

    func testABadBearerTokenIs401WithItsReason() throws {
        users.add("user_1")
        let verifier = try UnitTokens.verifier()
        let cases: [(String, String)] = [
            (Self.request(), "token_missing"),
            (Self.request(bearer: try UnitTokens.session("user_1", ttl: -60)), "token_expired"),
            (Self.request(bearer: try UnitTokens.session("user_1", signer: DevelopmentKey(keyId: UnitTokens.key.keyId))), "signature_invalid"),
            (Self.request(bearer: try UnitTokens.m2m()), "token_type_not_accepted"),
            (Self.request(bearer: "ak_live_9fK2mQ7xR4tW8zP1cV6bN3hJ5sL0dG"), "token_type_not_accepted")
        ]
        for (event, reason) in cases {
            let r = try me(event, verifier: verifier, accepted: [.sessionToken, .apiKey, .m2mToken])
            XCTAssertEqual(r.status, 401, reason)
            XCTAssertEqual(r.body["error"]?.stringValue, reason)
        }
    }

    func testADatabaseAwayBehindABearerTokenIs503() throws {
        users.failure = .connectionFailed("refused")
        let r = try me(Self.request(bearer: try UnitTokens.session("user_1")), verifier: try UnitTokens.verifier())
        XCTAssertEqual(r.status, 503)
        XCTAssertEqual(r.body["error"]?.stringValue, "database_unavailable")
    }
}
