import ClerkFunctions
import ClerkKit
import HTTPClient
import JSON
import LambdaRuntime
import LocalHosting
import TestSupport
import XCTest

/// `serve`: template.yaml's HTTP API on loopback, driven over HTTP with libcurl.
final class LocalAPIServerTests: XCTestCase {
    var tokens: TokenFixture!
    var f: WebhookFixture!
    var server: LocalAPIServer!
    var http: HTTPClient!

    override func setUpWithError() throws {
        tokens = try TokenFixture()
        f = try WebhookFixture()
        let routes = try SAMTemplate(path: BuiltProducts.packageRoot + "/template.yaml").routes
        server = try LocalAPIServer(
            registry: Functions.registry,
            environment: Environment([
                "DATABASE_URL": TestDatabase.url, "PROD_CLERK_WEBHOOK_SECRET": f.prodSecret,
                "PROD_CLERK_ISSUER": tokens.issuer, "PROD_CLERK_JWKS_URL": tokens.jwksURL
            ]), routes: routes, port: 0, logger: Logger(level: .error))
        http = try HTTPClient()
    }

    override func tearDown() { server?.stop() }

    func send(_ method: String, _ path: String, headers: [String] = [], body: [UInt8]? = nil) throws -> HTTPResponse {
        try http.send(method: method, url: server.baseURL + path, headers: headers, body: body, timeoutMs: 10_000, connectTimeoutMs: 2000)
    }

    func testTheTemplatesRoutes() throws {
        let routes = try SAMTemplate(path: BuiltProducts.packageRoot + "/template.yaml").routes
        XCTAssertTrue(
            routes.contains(.init(method: "GET", path: "/me", handler: "me", authorizerHandler: "verifyToken", identityHeader: "Authorization")))
        XCTAssertTrue(
            routes.contains(.init(method: "POST", path: "/webhooks/clerk", handler: "clerkWebhook", authorizerHandler: nil, identityHeader: nil)))
        XCTAssertTrue(routes.contains { $0.path == "/health" && $0.authorizerHandler == nil })
    }

    func testHealth() throws {
        let r = try send("GET", "/health")
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.header("content-type"), "application/json")
        XCTAssertEqual(try JSONValue.parse(r.body)["database"]?.stringValue, "ok")
    }

    func testASignedWebhookThenMeWithAMintedToken() throws {
        let body = try f.payload("user.created.json")
        let h = WebhookSigner(secret: try WebhookSecret(f.prodSecret)).headers(id: "msg_serve", timestamp: Clock.nowSeconds(), body: body)
        let hook = try send("POST", "/webhooks/clerk", headers: h.map { "\($0.key): \($0.value)" } + ["Content-Type: application/json"], body: body)
        XCTAssertEqual(hook.status, 200, hook.body.text)
        XCTAssertEqual(try JSONValue.parse(hook.body)["status"]?.stringValue, "processed")

        let token = try tokens.token(sub: "user_2Zs8PqLwX4nT6kVb9cRj1mHdYeF")
        let me = try send("GET", "/me", headers: ["Authorization: Bearer \(token)"])
        XCTAssertEqual(me.status, 200, me.body.text)
        let profile = try JSONValue.parse(me.body)
        XCTAssertEqual(profile["email"]?.stringValue, "ada@example.com")
        XCTAssertEqual(profile["tier"]?.stringValue, "free")
    }

    func testUnauthorizedForbiddenAndNotFound() throws {
        XCTAssertEqual(try send("GET", "/me").status, 401, "no identity header: API Gateway answers 401 without calling the authorizer")
        let forged = try tokens.token(signer: DevelopmentKey(keyId: "ins_test_1"))
        XCTAssertEqual(try send("GET", "/me", headers: ["Authorization: Bearer \(forged)"]).status, 403)
        XCTAssertEqual(try send("GET", "/me", headers: ["Authorization: Bearer \(try tokens.token(ttl: -60))"]).status, 403)
        XCTAssertEqual(try send("GET", "/nope").status, 404)
        let unsigned = try send("POST", "/webhooks/clerk", body: try f.payload("user.created.json"))
        XCTAssertEqual(unsigned.status, 400)
        XCTAssertEqual(try JSONValue.parse(unsigned.body)["error"]?.stringValue, "missing_headers")
    }
}
