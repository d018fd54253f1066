import JSON
import LocalHosting
import ClerkFunctions
import ClerkKit
import LambdaRuntime
import TestSupport
import XCTest

/// Every way a webhook request is refused: a specific status and error code, nothing stored, and a log
/// line naming the reason that never carries the secret or the signature.
final class WebhookRejectionTests: XCTestCase {
    var f: WebhookFixture!

    override func setUpWithError() throws { f = try WebhookFixture() }

    func assertRejected(_ event: [UInt8], function: String = "onUserCreated", status: Int, code: String,
                        file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try f.invoke(function, event)
        XCTAssertEqual(r.status, status, "\(r.body)", file: file, line: line)
        XCTAssertEqual(r.body["error"]?.stringValue, code, file: file, line: line)
        XCTAssertEqual(try f.count("users"), 0, file: file, line: line)
        XCTAssertEqual(try f.count("webhook_deliveries"), 0, file: file, line: line)
        let logs = f.logs
        XCTAssertTrue(logs.contains("\"reason\":\"\(code)\""), logs, file: file, line: line)
        for secret in [f.prodSecret, f.prodSecretNext, f.devSecret] {
            XCTAssertFalse(logs.contains(secret) || logs.contains(String(secret.dropFirst(6))), "a secret leaked", file: file, line: line)
        }
        if let sig = try? JSONValue.parse(event)["headers"]?["svix-signature"]?.stringValue {
            XCTAssertFalse(logs.contains(String(sig.dropFirst(3))), "a signature leaked", file: file, line: line)
        }
    }

    func body() -> [UInt8] { f.userBody(type: "user.created", updatedAt: 1000) }

    func testBadSignatureIs401() throws {
        try assertRejected(f.signed(body(), secret: WebhookSigner.newSecret()), status: 401, code: "signature_mismatch")
    }

    func testTamperedBodyIs401() throws {
        var event = try JSONValue.parse(f.signed(body()))
        guard case .object(var o) = event else { return XCTFail() }
        o["body"] = .string(String(decoding: f.userBody(type: "user.created", updatedAt: 1000, email: "evil@example.com"), as: UTF8.self))
        event = .object(o)
        try assertRejected(Array(event.serialized().utf8), status: 401, code: "signature_mismatch")
    }

    func testReplayOutsideTheWindowIs401() throws {
        try assertRejected(f.signed(body(), timestamp: Clock.nowSeconds() - 301), status: 401, code: "timestamp_too_old")
    }

    func testTimestampFromTheFutureIs401() throws {
        try assertRejected(f.signed(body(), timestamp: Clock.nowSeconds() + 301), status: 401, code: "timestamp_too_new")
    }

    func testMissingHeadersAre400() throws {
        let event = WebhookEventBuilder.httpEvent(body: body(), headers: ["svix-id": "msg_1"])
        try assertRejected(event, status: 400, code: "missing_headers")
        XCTAssertTrue(f.logs.contains("svix-timestamp,svix-signature"))
    }

    func testMalformedJSONIs400() throws {
        try assertRejected(f.signed(Array("{\"type\": \"user.created\", \"data\": ".utf8)), status: 400, code: "malformed_json")
        try assertRejected(f.signed(Array("{\"type\":\"user.created\",\"data\":{\"no_id\":1}}".utf8)), status: 400, code: "malformed_json")
    }

    func testANonHTTPEventIs400() throws {
        try assertRejected(Array("{\"hello\":\"world\"}".utf8), status: 400, code: "malformed_request")
    }

    func testOversizedBodyIs413() throws {
        let big = Array("{\"type\":\"user.created\",\"pad\":\"".utf8) + [UInt8](repeating: 0x61, count: 1 << 20) + Array("\"}".utf8)
        try assertRejected(f.signed(big), status: 413, code: "payload_too_large")
    }

    func testDatabaseDownIs503SoSvixRetries() throws {
        let down = try WebhookFixture(extra: ["DATABASE_URL": "postgresql://nobody@/x?host=/nonexistent-socket-dir",
                                              "DATABASE_CONNECT_TIMEOUT": "1"])
        let r = try down.invoke("onUserCreated", down.signed(body()))
        XCTAssertEqual(r.status, 503)
        XCTAssertEqual(r.body["error"]?.stringValue, "database_unavailable")
        XCTAssertTrue(down.logs.contains("\"reason\":\"database_unavailable\""))
    }

    func testNoSecretConfiguredIsAnInitErrorNotAcceptEverything() throws {
        let harness = LocalHarness(registry: Functions.registry, environment: Environment(["DATABASE_URL": TestDatabase.url]),
                                   logger: Logger(level: .error))
        XCTAssertThrowsError(try harness.invoke("onUserCreated", event: f.signed(body()))) { error in
            guard case .initFailed(let object)? = error as? HarnessError else { return XCTFail("\(error)") }
            XCTAssertEqual(object.errorType, "Runtime.ConfigError")
            XCTAssertTrue(object.errorMessage.contains("CLERK_WEBHOOK_SECRET"))
        }
    }

    func testAnUnparseableSecretIsAnInitErrorThatDoesNotRepeatIt() throws {
        let harness = LocalHarness(registry: Functions.registry,
                                   environment: Environment(["DATABASE_URL": TestDatabase.url, "PROD_CLERK_WEBHOOK_SECRET": "whsec_sec!ret"]),
                                   logger: Logger(level: .error))
        XCTAssertThrowsError(try harness.invoke("onUserCreated", event: f.signed(body()))) { error in
            guard case .initFailed(let object)? = error as? HarnessError else { return XCTFail("\(error)") }
            XCTAssertTrue(object.errorMessage.contains("PROD_CLERK_WEBHOOK_SECRET"))
            XCTAssertFalse(object.errorMessage.contains("sec!ret"))
        }
    }
}
