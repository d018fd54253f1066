import JSON
import LocalHosting
import ClerkFunctions
import ClerkKit
import LambdaRuntime
import Store
import TestSupport
import XCTest

/// `me`: the profile, from the authorizer context or a bearer token.
final class MeTests: XCTestCase {
    var tokens: TokenFixture!
    var webhooks: WebhookFixture!

    override func setUpWithError() throws {
        tokens = try TokenFixture()
        webhooks = try WebhookFixture(extra: ["CLERK_ISSUER": tokens.issuer, "CLERK_JWKS_URL": tokens.jwksURL])
    }

    func request(authorizer: [String: String]? = nil, bearer: String? = nil) -> [UInt8] {
        let ctx = authorizer.map { a in #","authorizer":{"lambda":{\#(a.map { #""\#($0.key)":"\#($0.value)""# }.joined(separator: ","))}}"# } ?? ""
        let auth = bearer.map { #""authorization":"Bearer \#($0)""# } ?? ""
        return Array(#"{"version":"2.0","routeKey":"GET /me","rawPath":"/me","headers":{\#(auth)},"requestContext":{"http":{"method":"GET","path":"/me"},"requestId":"r"\#(ctx)},"isBase64Encoded":false}"#.utf8)
    }

    func me(_ event: [UInt8]) throws -> (status: Int, body: JSONValue) { try webhooks.invoke("me", event) }

    func testProfileFromTheAuthorizerContext() throws {
        let created = try webhooks.invoke("onUserCreated", webhooks.signed(webhooks.payload("user.created.json")))
        let id = try XCTUnwrap(created.body["userId"]?.stringValue)
        let r = try me(request(authorizer: ["userId": id, "clerkUserId": "user_2Zs8PqLwX4nT6kVb9cRj1mHdYeF"]))
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.body["id"]?.stringValue, id)
        XCTAssertEqual(r.body["email"]?.stringValue, "ada@example.com")
        XCTAssertEqual(r.body["firstName"]?.stringValue, "Ada")
        XCTAssertEqual(r.body["tier"]?.stringValue, "free")
        XCTAssertEqual(r.body["environment"]?.stringValue, "production")
        XCTAssertNotNil(r.body["createdAt"]?.doubleValue)
    }

    func testProfileFromABearerTokenWithoutTheAuthorizer() throws {
        _ = try webhooks.invoke("onUserCreated", webhooks.signed(webhooks.payload("user.created.json")))
        let r = try me(request(bearer: tokens.token(sub: "user_2Zs8PqLwX4nT6kVb9cRj1mHdYeF")))
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.body["clerkUserId"]?.stringValue, "user_2Zs8PqLwX4nT6kVb9cRj1mHdYeF")
    }

    func testRefusalsAndMissingUsers() throws {
        XCTAssertEqual(try me(request()).status, 401)
        XCTAssertEqual(try me(request()).body["error"]?.stringValue, "token_missing")
        let bad = try me(request(bearer: tokens.token(ttl: -60)))
        XCTAssertEqual(bad.status, 401)
        XCTAssertEqual(bad.body["error"]?.stringValue, "token_expired")
        let unknown = try me(request(bearer: tokens.token(sub: "user_nobody")))
        XCTAssertEqual(unknown.status, 404)
        XCTAssertEqual(unknown.body["error"]?.stringValue, "user_not_found")
        _ = try webhooks.invoke("onUserCreated", webhooks.signed(webhooks.userBody(type: "user.created", updatedAt: 1)))
        let deleted = try webhooks.invoke("onUserDeleted", webhooks.signed(webhooks.deletedBody()))
        let gone = try me(request(authorizer: ["userId": deleted.body["userId"]!.stringValue!]))
        XCTAssertEqual(gone.status, 404)
        XCTAssertEqual(gone.body["error"]?.stringValue, "user_deleted")
        XCTAssertTrue(webhooks.logs.contains("\"reason\":\"token_expired\""))
    }
}
