import ClerkFunctions
import ClerkKit
import JSON
import LambdaRuntime
import LocalHosting
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

    // XCTest keeps every test case alive until the run ends: release the harness and its connections now.
    override func tearDown() {
        webhooks = nil
        tokens = nil
    }

    func request(authorizer: [String: String]? = nil, bearer: String? = nil) -> [UInt8] {
        let ctx = authorizer.map { a in #","authorizer":{"lambda":{\#(a.map { #""\#($0.key)":"\#($0.value)""# }.joined(separator: ","))}}"# } ?? ""
        let auth = bearer.map { #""authorization":"Bearer \#($0)""# } ?? ""
        return Array(
            #"{"version":"2.0","routeKey":"GET /me","rawPath":"/me","headers":{\#(auth)},"requestContext":{"http":{"method":"GET","path":"/me"},"requestId":"r"\#(ctx)},"isBase64Encoded":false}"#
                .utf8)
    }

    func me(_ event: [UInt8]) throws -> (status: Int, body: JSONValue) { try webhooks.invoke("me", event) }

    func testProfileFromTheAuthorizerContext() throws {
        let created = try webhooks.invoke("onUserCreated", webhooks.signed(webhooks.payload("user.created.json")))
        let id = try XCTUnwrap(created.body["userId"]?.stringValue)
        let r = try me(request(authorizer: ["userId": id, "clerkUserId": "user_2Zs8PqLwX4nT6kVb9cRj1mHdYeF", "tokenType": "session_token"]))
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.body["id"]?.stringValue, id)
        XCTAssertEqual(r.body["email"]?.stringValue, "ada@example.com")
        XCTAssertEqual(r.body["firstName"]?.stringValue, "Ada")
        XCTAssertEqual(r.body["tier"]?.stringValue, "free")
        XCTAssertEqual(r.body["environment"]?.stringValue, "production")
        XCTAssertNotNil(r.body["createdAt"]?.doubleValue)
        XCTAssertEqual(r.body["organizations"], .array([]))
    }

    func testLiveMembershipsAreListedAndDeletedOnesAreNot() throws {
        let f = webhooks!
        // The membership first: it is linked when the user arrives.
        _ = try f.invoke("onOrganizationEvent", f.signed(f.payload("organizationMembership.created.json")))
        let created = try f.invoke("onUserCreated", f.signed(f.payload("user.created.json")))
        let id = try XCTUnwrap(created.body["userId"]?.stringValue)
        _ = try f.invoke("onOrganizationEvent", f.signed(f.payload("organization.created.json")))
        func body(_ org: String, _ name: String, _ mem: String, role: String, type: String) -> [UInt8] {
            Array(
                #"""
                {"type":"\#(type)","timestamp":2,"data":{"object":"organization_membership","id":"\#(mem)","role":"\#(role)","permissions":[],"created_at":1,"updated_at":2,"organization":{"object":"organization","id":"\#(org)","name":"\#(name)","slug":"\#(name.lowercased())","created_at":1,"updated_at":1},"public_user_data":{"user_id":"user_2Zs8PqLwX4nT6kVb9cRj1mHdYeF"}}}
                """#.utf8)
        }
        let org = #"{"type":"organization.created","data":{"id":"org_b","name":"Beta","slug":"beta","created_at":1,"updated_at":1}}"#
        _ = try f.invoke("onOrganizationEvent", f.signed(Array(org.utf8)))
        _ = try f.invoke(
            "onOrganizationEvent", f.signed(body("org_b", "Beta", "orgmem_b", role: "org:member", type: "organizationMembership.created")))
        let gone = #"{"type":"organization.created","data":{"id":"org_c","name":"Gamma","slug":"gamma","created_at":1,"updated_at":1}}"#
        _ = try f.invoke("onOrganizationEvent", f.signed(Array(gone.utf8)))
        _ = try f.invoke(
            "onOrganizationEvent", f.signed(body("org_c", "Gamma", "orgmem_c", role: "org:member", type: "organizationMembership.created")))
        _ = try f.invoke(
            "onOrganizationEvent", f.signed(body("org_c", "Gamma", "orgmem_c", role: "org:member", type: "organizationMembership.deleted")))
        let deletedOrg = #"{"type":"organization.created","data":{"id":"org_d","name":"Delta","slug":"delta","created_at":1,"updated_at":1}}"#
        _ = try f.invoke("onOrganizationEvent", f.signed(Array(deletedOrg.utf8)))
        _ = try f.invoke(
            "onOrganizationEvent", f.signed(body("org_d", "Delta", "orgmem_d", role: "org:admin", type: "organizationMembership.created")))
        _ = try f.invoke("onOrganizationEvent", f.signed(Array(#"{"type":"organization.deleted","data":{"id":"org_d","deleted":true}}"#.utf8)))

        let r = try me(request(authorizer: ["userId": id, "tokenType": "session_token"]))
        XCTAssertEqual(r.status, 200)
        guard case .array(let list)? = r.body["organizations"] else { return XCTFail("no organizations: \(r.body)") }
        XCTAssertEqual(list.map { $0["id"]?.stringValue }, ["org_2b1M4kQz8RtY6wXc3nVp7LsJfGa", "org_b"], "live ones only, by name")
        XCTAssertEqual(list.first?["slug"]?.stringValue, "acme")
        XCTAssertEqual(list.first?["name"]?.stringValue, "Acme")
        XCTAssertEqual(list.first?["role"]?.stringValue, "org:admin")
        XCTAssertEqual(list.last?["role"]?.stringValue, "org:member")
        let byToken = try me(request(bearer: tokens.token(sub: "user_2Zs8PqLwX4nT6kVb9cRj1mHdYeF")))
        XCTAssertEqual(byToken.body["organizations"], r.body["organizations"])
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
        let gone = try me(request(authorizer: ["userId": deleted.body["userId"]!.stringValue!, "tokenType": "session_token"]))
        XCTAssertEqual(gone.status, 404)
        XCTAssertEqual(gone.body["error"]?.stringValue, "user_deleted")
        XCTAssertTrue(webhooks.logs.contains("\"reason\":\"token_expired\""))
    }

    /// An M2M JWT verifies against the instance's keys, but `me` is for a signed-in person.
    func testAMachineTokenIsNotASession() throws {
        let claims = DevelopmentKey.machineClaims(
            subject: "mch_2bots", issuer: tokens.issuer, now: Clock.nowSeconds(), ttl: 600,
            scopes: ["mch_api"], extra: "")
        let m2m = try tokens.token(claims: claims, header: tokens.key.m2mHeader())
        let r = try me(request(bearer: m2m))
        XCTAssertEqual(r.status, 401)
        XCTAssertEqual(r.body["error"]?.stringValue, "token_type_not_accepted")
        // Without Clerk's machine header too: the `mch_` subject says what it is.
        let bare = try me(request(bearer: tokens.token(claims: claims)))
        XCTAssertEqual(bare.body["error"]?.stringValue, "token_type_not_accepted")
    }

    // MARK: Machine tokens through the authorizer

    /// The context verifyToken (accepting every type, with the Backend API stand-in) gives an opaque machine token
    /// of a user: as API Gateway hands it to `me`.
    func authorizerContext(_ kind: ClerkAPIStandIn.MachineTokenKind, token: String, user: String) throws -> JSONValue {
        let standIn = try ClerkAPIStandIn()
        standIn.addUser(id: user, email: "\(user)@example.com")
        standIn.addMachineToken(kind, token: token, subject: user, scopes: ["read"], clientId: kind == .oauth ? "client_partner" : nil)
        let env = [
            "DATABASE_URL": TestDatabase.url, "PROD_CLERK_ISSUER": tokens.issuer, "PROD_CLERK_JWKS_URL": tokens.jwksURL,
            "PROD_CLERK_SECRET_KEY": standIn.secretKey, "CLERK_API_URL": standIn.baseURL, "CLERK_ACCEPTS_TOKEN": "any"
        ]
        let authorizer = LocalHarness(registry: Functions.registry, environment: Environment(env), logger: Logger(level: .error))
        let event = try BuiltProducts.event("verifyToken.http-api.token.json").text.replacingAll("DEV_SESSION_TOKEN", with: token)
        let out = try JSONValue.parse(authorizer.invoke("verifyToken", event: Array(event.utf8)))
        XCTAssertEqual(out["isAuthorized"]?.boolValue, true, "\(out)")
        return try XCTUnwrap(out["context"])
    }

    func request(context: JSONValue) -> [UInt8] {
        Array(
            #"{"version":"2.0","routeKey":"GET /me","rawPath":"/me","headers":{},"requestContext":{"http":{"method":"GET","path":"/me"},"requestId":"r","authorizer":{"lambda":\#(context.serialized())}},"isBase64Encoded":false}"#
                .utf8)
    }

    /// verifyToken accepting API keys and OAuth tokens (for other routes) puts a user's id in the context; `me`
    /// by default serves session tokens only, so a user's API key or a third-party OAuth client does not get
    /// the full profile.
    func testMachineTokensThroughTheAuthorizerAreRefusedByDefault() throws {
        for (kind, token, user, type) in [
            (ClerkAPIStandIn.MachineTokenKind.apiKey, "ak_live_9fK2mQ7xR4tW8zP1cV6bN3hJ5sL0dG", "user_keyholder", "api_key"),
            (.oauth, "oat_2xhFjEI5X2qWRvtV13BzSj8H6Dk0ef5a7", "user_oauth", "oauth_token")
        ] {
            let context = try authorizerContext(kind, token: token, user: user)
            XCTAssertEqual(context["tokenType"]?.stringValue, type)
            XCTAssertNotNil(context["userId"]?.stringValue, "a user's machine token carries the user's id")
            let r = try me(request(context: context))
            XCTAssertEqual(r.status, 403, type)
            XCTAssertEqual(r.body["error"]?.stringValue, "token_type_not_accepted", type)
            XCTAssertNil(r.body["email"], type)
        }
        XCTAssertTrue(webhooks.logs.contains("\"reason\":\"token_type_not_accepted\""), webhooks.logs)
        XCTAssertTrue(webhooks.logs.contains("\"tokenType\":\"oauth_token\""), webhooks.logs)
    }

    /// `me`'s own CLERK_ACCEPTS_TOKEN (verifyToken's parser) names what it serves behind the authorizer.
    func testMeServesTheTypesItsSettingNames() throws {
        webhooks = try WebhookFixture(extra: [
            "CLERK_ISSUER": tokens.issuer, "CLERK_JWKS_URL": tokens.jwksURL,
            "CLERK_ACCEPTS_TOKEN": "session_token,api_key"
        ])
        let key = try me(request(context: authorizerContext(.apiKey, token: "ak_live_9fK2mQ7xR4tW8zP1cV6bN3hJ5sL0dG", user: "user_keyholder")))
        XCTAssertEqual(key.status, 200)
        XCTAssertEqual(key.body["clerkUserId"]?.stringValue, "user_keyholder")
        let oauth = try me(request(context: authorizerContext(.oauth, token: "oat_2xhFjEI5X2qWRvtV13BzSj8H6Dk0ef5a7", user: "user_oauth")))
        XCTAssertEqual(oauth.status, 403)
        XCTAssertEqual(oauth.body["error"]?.stringValue, "token_type_not_accepted")
        // Without the authorizer `me` verifies session tokens only: it has no Backend API client for machine tokens.
        let bare = try me(request(bearer: "ak_live_9fK2mQ7xR4tW8zP1cV6bN3hJ5sL0dG"))
        XCTAssertEqual(bare.status, 401)
        XCTAssertEqual(bare.body["error"]?.stringValue, "token_type_not_accepted")
    }

    /// A context without `tokenType` (an authorizer of another make, or one older than machine tokens) cannot
    /// say what vouched for the user: refused, not served as a session.
    func testAnAuthorizerContextWithoutATokenTypeIsRefused() throws {
        let created = try webhooks.invoke("onUserCreated", webhooks.signed(webhooks.payload("user.created.json")))
        let id = try XCTUnwrap(created.body["userId"]?.stringValue)
        let r = try me(request(authorizer: ["userId": id, "clerkUserId": "user_2Zs8PqLwX4nT6kVb9cRj1mHdYeF"]))
        XCTAssertEqual(r.status, 403)
        XCTAssertEqual(r.body["error"]?.stringValue, "token_type_missing")
        XCTAssertNil(r.body["email"])
        XCTAssertTrue(webhooks.logs.contains("\"reason\":\"token_type_missing\""), webhooks.logs)
    }

    func testABadSettingIsAnInitError() throws {
        webhooks = try WebhookFixture(extra: ["CLERK_ACCEPTS_TOKEN": "session_token,cookies"])
        XCTAssertThrowsError(try me(request(authorizer: ["userId": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", "tokenType": "session_token"]))) { error in
            guard case .initFailed(let object)? = error as? HarnessError else { return XCTFail("\(error)") }
            XCTAssertEqual(object.errorType, "Runtime.ConfigError")
        }
    }
}
