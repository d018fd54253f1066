import ClerkFunctions
import ClerkKit
import JSON
import LambdaRuntime
import LocalHosting
import TestSupport
import XCTest

/// Every way a webhook request is refused: a specific status and error code, nothing stored, and a log
/// line naming the reason that never carries the secret or the signature.
final class WebhookRejectionTests: XCTestCase {
    var f: WebhookFixture!

    // XCTest keeps every test case alive until the run ends: release its connections and servers now.
    override func tearDown() { f = nil }

    override func setUpWithError() throws { f = try WebhookFixture() }

    func assertRejected(
        _ event: [UInt8], function: String = "onUserCreated", status: Int, code: String,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
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
        // Every signature the request carried, none of them in the log. Only a request refused for want of headers
        // has none to leak; any other must carry one, or this check would check nothing.
        let request = try JSONValue.parse(event)
        let signatures = ["svix-signature", "webhook-signature"].compactMap { request["headers"]?[$0]?.stringValue }
        if !["missing_headers", "malformed_request"].contains(code) {
            XCTAssertFalse(signatures.isEmpty, "a signed request: \(request)", file: file, line: line)
        }
        for sig in signatures {
            for part in sig.split(separator: " ") {
                let value = part.split(separator: ",", maxSplits: 1).last.map(String.init) ?? String(part)
                XCTAssertFalse(logs.contains(value), "a signature leaked", file: file, line: line)
            }
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

    // Half a minute past the five-minute window: a loaded machine may take seconds between signing and the
    // check, and a timestamp one second out would then fall back inside it.
    func testReplayOutsideTheWindowIs401() throws {
        try assertRejected(f.signed(body(), timestamp: Clock.nowSeconds() - 330), status: 401, code: "timestamp_too_old")
    }

    func testTimestampFromTheFutureIs401() throws {
        try assertRejected(f.signed(body(), timestamp: Clock.nowSeconds() + 330), status: 401, code: "timestamp_too_new")
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

    /// A user.created body with `firstName` and `note` spliced in as raw JSON text (escapes kept as written).
    func body(firstNameJSON: String, noteJSON: String = "\"plain\"", createdAt: String = "1735732800123") -> [UInt8] {
        Array(
            #"""
            {"data":{"id":"user_nul","object":"user","first_name":\#(firstNameJSON),"last_name":"Lovelace","primary_email_address_id":"idn_1","email_addresses":[{"id":"idn_1","email_address":"ada@example.com"}],"created_at":\#(createdAt),"updated_at":1735732800200,"public_metadata":{"note":\#(noteJSON),"kept":"\\u0000 is text here"}},"object":"event","timestamp":1735732800250,"type":"user.created"}
            """#.utf8)
    }

    func testAnEscapedNULIsRemovedAndTheUserStored() throws {
        // jsonb refuses \u0000 (22P05): before, the delivery failed with 500 and Svix retried it for days.
        let r = try f.invoke("onUserCreated", f.signed(body(firstNameJSON: #""Ada\u0000Byron""#, noteJSON: #""a\u0000b""#)))
        XCTAssertEqual(r.status, 200, "\(r.body)")
        XCTAssertEqual(r.body["status"]?.stringValue, "processed")
        let user = try XCTUnwrap(f.user("user_nul"))
        XCTAssertEqual(user["first_name"], "AdaByron", "the NUL is removed, not the text after it")
        let raw = try JSONValue.parse(Array(try XCTUnwrap(user["raw"]).utf8))
        XCTAssertEqual(raw["public_metadata"]?["note"]?.stringValue, "ab")
        XCTAssertEqual(raw["public_metadata"]?["kept"]?.stringValue, "\\u0000 is text here", "an escaped backslash is not a NUL")
        XCTAssertTrue(f.logs.contains("\"nulRemoved\":"), f.logs)
    }

    func testARawNULByteIsRemovedAndTheUserStored() throws {
        var raw = body(firstNameJSON: #""Ada@Byron""#)
        if let at = raw.firstIndex(of: UInt8(ascii: "@")) { raw[at] = 0 }
        let r = try f.invoke("onUserCreated", f.signed(raw))
        XCTAssertEqual(r.status, 200, "\(r.body)")
        XCTAssertEqual(try f.user("user_nul")?["first_name"], "AdaByron", "not truncated at the NUL")
        XCTAssertTrue(f.logs.contains("\"nulRemoved\":"), f.logs)
    }

    func testAPostgreSQLDataErrorIsAPermanentRejectionThatIsRecorded() throws {
        // A creation time past PostgreSQL's timestamp range: to_timestamp fails with 22008, on every retry.
        let event = try f.signed(body(firstNameJSON: #""Ada""#, createdAt: "9223372036854775807"), id: "msg_data_error")
        let r = try f.invoke("onUserCreated", event)
        XCTAssertEqual(r.status, 200, "a retry would fail the same way: Svix must stop (\(r.body))")
        XCTAssertEqual(r.body["status"]?.stringValue, "rejected")
        XCTAssertEqual(r.body["error"]?.stringValue, "data_error")
        XCTAssertEqual(r.body["sqlState"]?.stringValue, "22008")
        XCTAssertNil(try f.user("user_nul"), "nothing half-applied")
        let delivery = try XCTUnwrap(f.db.query("SELECT outcome FROM webhook_deliveries WHERE svix_id = 'msg_data_error'").first)
        XCTAssertEqual(try delivery.decode("outcome", as: String.self), "rejected", "the delivery is recorded")
        let kept = try XCTUnwrap(f.db.query("SELECT source, message_id, reason, body FROM queue_rejects").first)
        XCTAssertEqual(try kept.decode("source", as: String.self), "webhook")
        XCTAssertEqual(try kept.decode("message_id", as: String.self), "msg_data_error")
        XCTAssertEqual(try kept.decode("reason", as: String.self), "data_error 22008")
        XCTAssertTrue(try kept.decode("body", as: String.self).contains("user_nul"), "the body is kept for a person")
        XCTAssertTrue(f.logs.contains("\"sqlState\":\"22008\""), f.logs)
        XCTAssertTrue(f.logs.contains("\"reason\":\"data_error\""), f.logs)
        // Svix's next attempt (same message id) is answered without applying it again.
        let again = try f.invoke("onUserCreated", f.signed(body(firstNameJSON: #""Ada""#, createdAt: "9223372036854775807"), id: "msg_data_error"))
        XCTAssertEqual(again.status, 200)
        XCTAssertEqual(try f.count("queue_rejects"), 1)
    }

    func testDatabaseDownIs503SoSvixRetries() throws {
        let down = try WebhookFixture(extra: [
            "DATABASE_URL": "postgresql://nobody@/x?host=/nonexistent-socket-dir",
            "DATABASE_CONNECT_TIMEOUT": "1"
        ])
        let r = try down.invoke("onUserCreated", down.signed(body()))
        XCTAssertEqual(r.status, 503)
        XCTAssertEqual(r.body["error"]?.stringValue, "database_unavailable")
        XCTAssertTrue(down.logs.contains("\"reason\":\"database_unavailable\""))
    }

    func testNoSecretConfiguredIsAnInitErrorNotAcceptEverything() throws {
        let harness = LocalHarness(
            registry: Functions.registry, environment: Environment(["DATABASE_URL": TestDatabase.url]),
            logger: Logger(level: .error))
        XCTAssertThrowsError(try harness.invoke("onUserCreated", event: f.signed(body()))) { error in
            guard case .initFailed(let object)? = error as? HarnessError else { return XCTFail("\(error)") }
            XCTAssertEqual(object.errorType, "Runtime.ConfigError")
            XCTAssertTrue(object.errorMessage.contains("CLERK_WEBHOOK_SECRET"))
        }
    }

    func testAnUnparseableSecretIsAnInitErrorThatDoesNotRepeatIt() throws {
        let harness = LocalHarness(
            registry: Functions.registry,
            environment: Environment(["DATABASE_URL": TestDatabase.url, "PROD_CLERK_WEBHOOK_SECRET": "whsec_sec!ret"]),
            logger: Logger(level: .error))
        XCTAssertThrowsError(try harness.invoke("onUserCreated", event: f.signed(body()))) { error in
            guard case .initFailed(let object)? = error as? HarnessError else { return XCTFail("\(error)") }
            XCTAssertTrue(object.errorMessage.contains("PROD_CLERK_WEBHOOK_SECRET"))
            XCTAssertFalse(object.errorMessage.contains("sec!ret"))
        }
    }
}
