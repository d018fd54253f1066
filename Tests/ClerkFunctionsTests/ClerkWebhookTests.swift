import ClerkFunctions
import ClerkKit
import JSON
import LambdaRuntime
import LocalHosting
import TestSupport
import XCTest

/// `clerkWebhook`: one endpoint, routed by `type`; and the tools that make signed events.
final class ClerkWebhookTests: XCTestCase {
    var f: WebhookFixture!

    // XCTest keeps every test case alive until the run ends: release its connections and servers now.
    override func tearDown() { f = nil }

    override func setUpWithError() throws { f = try WebhookFixture() }

    func testRoutesEachUserEventByType() throws {
        let c = try f.invoke("clerkWebhook", f.signed(f.userBody(type: "user.created", updatedAt: 1000)))
        XCTAssertEqual(c.body["status"]?.stringValue, "processed")
        let u = try f.invoke("clerkWebhook", f.signed(f.userBody(type: "user.updated", updatedAt: 2000, firstName: "Second")))
        XCTAssertEqual(u.body["status"]?.stringValue, "processed")
        XCTAssertEqual(try f.user()?["first_name"], "Second")
        let d = try f.invoke("clerkWebhook", f.signed(f.deletedBody()))
        XCTAssertEqual(d.body["status"]?.stringValue, "processed")
        XCTAssertEqual(try f.user()?["deleted"], "true")
        let types = try f.db.query("SELECT event_type FROM webhook_deliveries ORDER BY received_at").map {
            try $0.decode("event_type", as: String.self)
        }
        XCTAssertEqual(types, ["user.created", "user.updated", "user.deleted"])
    }

    func testTypesNobodyHandlesAre202Ignored() throws {
        for name in ["session.created.json"] {
            let r = try f.invoke("clerkWebhook", f.signed(f.payload(name)))
            XCTAssertEqual(r.status, 202)
            XCTAssertEqual(r.body["status"]?.stringValue, "ignored")
            XCTAssertEqual(r.body["type"]?.stringValue, "session.created")
        }
        let unknown = try f.invoke("clerkWebhook", f.signed(Array(#"{"type":"brand.new","data":{}}"#.utf8)))
        XCTAssertEqual(unknown.status, 202)
        XCTAssertEqual(try f.count("users"), 0)
        XCTAssertEqual(try f.count("webhook_deliveries"), 0)
    }

    func testSignWebhookOutputVerifiesAndInvokeSignRefreshesTheSampleEvents() throws {
        let secret = WebhookSigner.newSecret()
        let signed = try Subprocess.run(
            path: BuiltProducts.clerkFunctions,
            arguments: [
                "sign-webhook", "--secret", secret, "--id", "msg_tool", BuiltProducts.packageRoot + "/events/payloads/user.created.json"
            ], environment: childEnvironment([:]))
        XCTAssertEqual(signed.exit.code, 0, signed.stderr.text)
        let event = try JSONValue.parse(signed.stdout)
        XCTAssertEqual(event["headers"]?["svix-id"]?.stringValue, "msg_tool")
        let verifier = WebhookVerifier(entries: [.init(environment: "production", secret: try WebhookSecret(secret))])
        let request = try APIRequest.decode(signed.stdout)
        XCTAssertEqual(request.body, try f.payload("user.created.json"), "the payload travels byte for byte")
        XCTAssertNoThrow(try verifier.verify(header: { request.headers[$0] }, body: request.body, now: Clock.nowSeconds()))

        let invoked = try Subprocess.run(
            path: BuiltProducts.clerkFunctions,
            arguments: [
                "invoke", "onUserCreated", "--sign", "--event", BuiltProducts.packageRoot + "/events/onUserCreated.signed.json"
            ], environment: childEnvironment(["DATABASE_URL": TestDatabase.url, "CLERK_WEBHOOK_SECRET": secret]))
        XCTAssertEqual(invoked.exit.code, 0, invoked.stderr.text)
        XCTAssertEqual(try JSONValue.parse(invoked.stdout)["statusCode"]?.doubleValue, 200, invoked.stdout.text)
        XCTAssertEqual(try f.user("user_2Zs8PqLwX4nT6kVb9cRj1mHdYeF")?["email"], "ada@example.com")

        let stale = try Subprocess.run(
            path: BuiltProducts.clerkFunctions,
            arguments: [
                "invoke", "onUserCreated", "--event", BuiltProducts.packageRoot + "/events/onUserCreated.signed.json"
            ], environment: childEnvironment(["DATABASE_URL": TestDatabase.url, "CLERK_WEBHOOK_SECRET": secret]))
        XCTAssertEqual(try JSONValue.parse(stale.stdout)["statusCode"]?.doubleValue, 401, "without --sign the placeholder signature fails")
    }
}

/// Svix's own Python library (from PyPI, in the test venv) agrees with our signing and our verifying.
final class SvixInteropTests: XCTestCase {
    func python(_ script: String, stdin: [UInt8]) throws -> (code: Int32, out: String) {
        guard let venv = Environment.process()["CLERK_TOOLS_VENV"] else {
            XCTFail("CLERK_TOOLS_VENV is not set: `make test` installs Svix's library there")
            return (-1, "")
        }
        let r = try Subprocess.run(path: venv + "/bin/python", arguments: ["-c", script], environment: childEnvironment([:]), stdinBytes: stdin)
        return (r.exit.code, r.stdout.text + r.stderr.text)
    }

    func testSvixVerifiesWhatSignWebhookPrints() throws {
        let secret = WebhookSigner.newSecret()
        let signed = try Subprocess.run(
            path: BuiltProducts.clerkFunctions,
            arguments: [
                "sign-webhook", "--secret", secret, BuiltProducts.packageRoot + "/events/payloads/user.updated.json"
            ], environment: childEnvironment([:]))
        XCTAssertEqual(signed.exit.code, 0)
        let r = try python(
            """
            import json, sys
            from svix.webhooks import Webhook
            event = json.load(sys.stdin)
            Webhook("\(secret)").verify(event["body"], event["headers"])  # raises when the signature is wrong
            print("verified", json.loads(event["body"])["type"])
            """, stdin: signed.stdout)
        XCTAssertEqual(r.code, 0, r.out)
        XCTAssertTrue(r.out.contains("verified user.updated"), r.out)
    }

    func testWeVerifyWhatSvixSigns() throws {
        let secret = WebhookSigner.newSecret()
        let body = try BuiltProducts.event("payloads/user.created.json")
        let now = Clock.nowSeconds()
        let r = try python(
            """
            import sys, datetime
            from svix.webhooks import Webhook
            body = sys.stdin.buffer.read().decode()
            print(Webhook("\(secret)").sign("msg_from_svix", datetime.datetime.fromtimestamp(\(now), tz=datetime.timezone.utc), body), end="")
            """, stdin: body)
        XCTAssertEqual(r.code, 0, r.out)
        let verifier = WebhookVerifier(entries: [.init(environment: "production", secret: try WebhookSecret(secret))])
        let headers = ["svix-id": "msg_from_svix", "svix-timestamp": String(now), "svix-signature": r.out]
        XCTAssertEqual(try verifier.verify(header: { headers[$0] }, body: body, now: now).messageId, "msg_from_svix")
    }
}
