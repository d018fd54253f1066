import ClerkFunctions
import ClerkKit
import JSON
import LambdaRuntime
import LocalHosting
import Messaging
import Store
import TestSupport
import XCTest

/// `onUserCreated` with the profile service: one usable key, delivered, stored only as a hash, whatever fails.
final class APIKeyIssuanceTests: XCTestCase {
    var profile: ProfileReceiver!
    var f: WebhookFixture!

    // XCTest keeps every test case alive until the run ends: release its connections and servers now.
    override func tearDown() {
        profile = nil
        f = nil
    }

    override func setUpWithError() throws {
        profile = try ProfileReceiver()
        f = try WebhookFixture(extra: [
            "PROFILE_SERVICE_URL": profile.url, "PROFILE_SERVICE_API_KEY": "ps_secret_token",
            "PROFILE_SERVICE_TIMEOUT_MS": "800"
        ])
    }

    func keys() throws -> [(hash: String, status: String)] {
        try f.db.query("SELECT key_hash, status FROM api_keys ORDER BY created_at").map {
            (try $0.decode("key_hash", as: String.self), try $0.decode("status", as: String.self))
        }
    }

    func outbox(_ queue: String) throws -> [JSONValue] {
        try f.db.query("SELECT payload::text AS p FROM outbox WHERE queue = $1 ORDER BY id", [queue]).map {
            try JSONValue.parse(Array(try $0.decode("p", as: String.self).utf8))
        }
    }

    func sentKey(_ i: Int) throws -> String {
        try XCTUnwrap(JSONValue.parse(profile.received[i].body)["api_key"]?.stringValue)
    }

    func testKeyFormatAndEntropy() {
        var seen = Set<String>()
        var counts = [Character: Int]()
        for _ in 0..<2000 {
            let key = APIKey.mint()
            XCTAssertTrue(key.plaintext.hasPrefix("mk_"))
            XCTAssertEqual(key.plaintext.count, 67)
            XCTAssertTrue(key.plaintext.dropFirst(3).allSatisfy { "0123456789abcdef".contains($0) })
            XCTAssertEqual(key.hash, Crypto.sha256(Array(key.plaintext.utf8)).hex)
            XCTAssertFalse(key.description.contains(key.plaintext), "printing a key shows only its hash")
            seen.insert(key.plaintext)
            for c in key.plaintext.dropFirst(3) { counts[c, default: 0] += 1 }
        }
        XCTAssertEqual(seen.count, 2000)
        // 128,000 hex digits: each of the 16 should appear about 8,000 times.
        for (_, n) in counts { XCTAssertTrue((7_000...9_000).contains(n), "hex digit frequency \(n) looks biased") }
    }

    func testTheProfileServiceGetsTheKeyAndOnlyTheHashIsStored() throws {
        let r = try f.invoke("onUserCreated", f.signed(f.payload("user.created.json")))
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.body["apiKey"]?.stringValue, "issued")
        XCTAssertEqual(profile.received.count, 1)
        let request = profile.received[0]
        XCTAssertEqual(request.method, "POST")
        XCTAssertEqual(request.header("authorization"), "Bearer ps_secret_token")
        let body = try JSONValue.parse(request.body)
        XCTAssertEqual(body["clerk_user_id"]?.stringValue, "user_2Zs8PqLwX4nT6kVb9cRj1mHdYeF")
        XCTAssertEqual(body["environment"]?.stringValue, "production")
        XCTAssertEqual(body["email"]?.stringValue, "ada@example.com")
        XCTAssertEqual(body["first_name"]?.stringValue, "Ada")
        let plaintext = try sentKey(0)
        let hash = APIKey.hash(of: plaintext)
        XCTAssertEqual(try keys().map(\.hash), [hash])
        XCTAssertEqual(try keys().map(\.status), ["active"])
        XCTAssertEqual(
            try outbox("api-key-mappings"),
            [.object(["op": .string("set"), "key": .string("api_key:\(hash)"), "value": .string("user_2Zs8PqLwX4nT6kVb9cRj1mHdYeF")])])
        let events = try outbox("user-events")
        XCTAssertEqual(events.first?["type"]?.stringValue, "user.created")
        XCTAssertEqual(events.first?["changed"]?["email"]?.stringValue, "ada@example.com")
        // The plaintext is nowhere: not in a row, not in a log line.
        let everywhere = try f.db.query(
            """
            SELECT (SELECT count(*) FROM outbox WHERE payload::text LIKE '%' || $1 || '%')
                 + (SELECT count(*) FROM api_keys WHERE key_hash LIKE '%' || $1 || '%')
                 + (SELECT count(*) FROM users WHERE raw_payload::text LIKE '%' || $1 || '%') AS n
            """, [String(plaintext.dropFirst(3))]
        ).first!.decode("n", as: Int.self)
        XCTAssertEqual(everywhere, 0)
        XCTAssertFalse(f.logs.contains(String(plaintext.dropFirst(3))))
        XCTAssertFalse(f.logs.contains("ps_secret_token"))
    }

    func testARetriedDeliveryAfterAProfileOutageRevokesThePendingKeyAndIssuesAFreshOne() throws {
        profile.status = 503
        let event = try f.signed(f.payload("user.created.json"), id: "msg_key_retry")
        let failed = try f.invoke("onUserCreated", event)
        XCTAssertEqual(failed.status, 502, "5xx so that Svix retries")
        XCTAssertEqual(failed.body["error"]?.stringValue, "profile_service_unavailable")
        XCTAssertEqual(try keys().map(\.status), ["pending"], "recorded, not usable")
        XCTAssertEqual(try outbox("api-key-mappings").count, 1, "the mapping was recorded before the profile call")

        profile.status = 200
        let retried = try f.invoke("onUserCreated", f.signed(f.payload("user.created.json"), id: "msg_key_retry"))
        XCTAssertEqual(retried.status, 200)
        XCTAssertEqual(retried.body["status"]?.stringValue, "duplicate", "the user sync itself is not repeated")
        XCTAssertEqual(retried.body["apiKey"]?.stringValue, "issued")
        let all = try keys()
        XCTAssertEqual(all.map(\.status), ["revoked", "active"], "never two usable keys")
        XCTAssertEqual(profile.received.count, 2)
        XCTAssertNotEqual(try sentKey(0), try sentKey(1))
        XCTAssertEqual(all[1].hash, APIKey.hash(of: try sentKey(1)), "the active key is the one the profile service got")
        let mappings = try outbox("api-key-mappings")
        XCTAssertEqual(mappings.map { $0["op"]?.stringValue }, ["set", "delete", "set"])
        XCTAssertEqual(mappings[1]["key"]?.stringValue, "api_key:\(all[0].hash)", "the revoked key's mapping is removed")
        // A third delivery of the same message finds the active key and does nothing more.
        let third = try f.invoke("onUserCreated", f.signed(f.payload("user.created.json"), id: "msg_key_retry"))
        XCTAssertEqual(third.body["apiKey"]?.stringValue, "already_active")
        XCTAssertEqual(profile.received.count, 2)
    }

    func testAProfileTimeoutIsRetryableAndLeavesNothingUsable() throws {
        profile.delayMs = 1500
        let r = try f.invoke("onUserCreated", f.signed(f.payload("user.created.json")))
        XCTAssertEqual(r.status, 502)
        XCTAssertEqual(try keys().map(\.status), ["pending"])
        XCTAssertTrue(f.logs.contains("\"reason\":\"profile_service_unavailable\""))
    }

    func testA4xxIsPermanentTheKeyIsRevokedAndNotRetried() throws {
        profile.status = 422
        let r = try f.invoke("onUserCreated", f.signed(f.payload("user.created.json")))
        XCTAssertEqual(r.status, 200, "a retry would never succeed: Svix must stop")
        XCTAssertEqual(r.body["apiKey"]?.stringValue, "rejected_by_profile_service")
        XCTAssertEqual(try keys().map(\.status), ["revoked"])
        XCTAssertEqual(try outbox("api-key-mappings").map { $0["op"]?.stringValue }, ["set", "delete"])
    }

    func testFailingToRecordTheMappingPreventsTheProfileCall() throws {
        try f.db.query(
            """
            CREATE OR REPLACE FUNCTION test_fail_mapping() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN IF NEW.queue = 'api-key-mappings' THEN RAISE EXCEPTION 'injected'; END IF; RETURN NEW; END $$
            """)
        try f.db.query("CREATE TRIGGER test_fail_mapping BEFORE INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION test_fail_mapping()")
        defer { _ = try? f.db.query("DROP TRIGGER IF EXISTS test_fail_mapping ON outbox") }
        let r = try f.invoke("onUserCreated", f.signed(f.payload("user.created.json")))
        XCTAssertGreaterThanOrEqual(r.status, 500)
        XCTAssertEqual(profile.received.count, 0, "no profile call without a recorded mapping")
        XCTAssertEqual(try keys().count, 0, "the key and its mapping roll back together")
    }

    func testDeletingTheUserRevokesItsKeyAndUnmapsIt() throws {
        _ = try f.invoke("onUserCreated", f.signed(f.userBody(type: "user.created", updatedAt: 1)))
        _ = try f.invoke("onUserDeleted", f.signed(f.deletedBody()))
        XCTAssertEqual(try keys().map(\.status), ["revoked"])
        XCTAssertEqual(try outbox("api-key-mappings").map { $0["op"]?.stringValue }, ["set", "delete"])
        XCTAssertEqual(try outbox("user-events").map { $0["type"]?.stringValue }, ["user.created", "user.deleted"])
    }
}
