import JSON
import LocalHosting
import ClerkFunctions
import ClerkKit
import LambdaRuntime
import Store
import TestSupport
import XCTest

/// Two deliveries of one `user.created` at the same time (Svix retrying while the first is still busy),
/// in two processes, with a profile service slow on the first call: one key is issued, the other delivery
/// is told to come back later, and the key the profile service keeps is the active one.
final class ConcurrentDeliveryTests: XCTestCase {
    var profile: ProfileReceiver!
    var f: WebhookFixture!

    // XCTest keeps every test case alive until the run ends: release its connections and servers now.
    override func tearDown() { profile = nil; f = nil }

    override func setUpWithError() throws {
        profile = try ProfileReceiver()
        f = try WebhookFixture(extra: ["PROFILE_SERVICE_URL": profile.url, "PROFILE_SERVICE_TIMEOUT_MS": "10000"])
    }

    /// `clerk-functions invoke onUserCreated` in a child process, started now; the answer when it ends.
    final class Delivery: @unchecked Sendable {
        private let done = ConditionLock()
        private var output: [UInt8]?

        init(event: [UInt8], environment: [String: String]) {
            Threads.detach { [self] in
                let r = try? Subprocess.run(path: BuiltProducts.clerkFunctions, arguments: ["invoke", "onUserCreated", "--event", "-"],
                                            environment: TestSupport.childEnvironment(environment), stdinBytes: event)
                done.withLock { output = r?.stdout ?? [] }
                done.broadcast()
            }
        }

        /// The HTTP status and body the function answered.
        func answer() throws -> (status: Int, body: JSONValue) {
            XCTAssertTrue(done.wait(timeoutMs: 60_000) { output != nil }, "the delivery process did not finish")
            let response = try JSONValue.parse(done.withLock { output ?? [] })
            let body = try JSONValue.parse(Array((response["body"]?.stringValue ?? "null").utf8))
            return (Int(response["statusCode"]?.doubleValue ?? -1), body)
        }
    }

    var deliveryEnvironment: [String: String] {
        ["DATABASE_URL": TestDatabase.url, "PROD_CLERK_WEBHOOK_SECRET": f.prodSecret, "PROFILE_SERVICE_URL": profile.url,
         "PROFILE_SERVICE_TIMEOUT_MS": "10000"]
    }

    func keys() throws -> [(hash: String, status: String)] {
        try f.db.query("SELECT key_hash, status FROM api_keys ORDER BY created_at").map {
            (try $0.decode("key_hash", as: String.self), try $0.decode("status", as: String.self))
        }
    }

    func key(in request: LoopbackHTTPServer.Request) throws -> String {
        try XCTUnwrap(JSONValue.parse(request.body)["api_key"]?.stringValue)
    }

    func testOverlappingDeliveriesInTwoProcessesIssueOneKeyTheProfileServiceKeeps() throws {
        // The first profile call takes 3 s, the second 0.5 s: without serialization the second delivery's key
        // lands first and the first delivery's (by then revoked) key lands last.
        profile.schedule = [3000, 500]
        let event = try f.signed(f.payload("user.created.json"), id: "msg_overlap")
        let first = Delivery(event: event, environment: deliveryEnvironment)
        XCTAssertTrue(profile.waitForRequests(1), "the first delivery reached the profile service")
        let second = Delivery(event: event, environment: deliveryEnvironment)
        let answers = [try first.answer(), try second.answer()]

        let issued = answers.filter { $0.status == 200 && $0.body["apiKey"]?.stringValue == "issued" }
        XCTAssertEqual(issued.count, 1, "exactly one delivery issues a key: \(answers)")
        let conflict = answers.filter { $0.status == 409 }
        XCTAssertEqual(conflict.count, 1, "the other is told to come back later: \(answers)")
        XCTAssertEqual(conflict.first?.body["error"]?.stringValue, "api_key_conflict")

        let active = try keys().filter { $0.status == "active" }
        XCTAssertEqual(active.count, 1, "exactly one usable key")
        let kept = try XCTUnwrap(profile.answered.last)
        XCTAssertEqual(active.first?.hash, APIKey.hash(of: try key(in: kept)), "the active key is the one the profile service kept")

        // Svix's retry of the refused delivery finds the key and stops.
        let retry = try Delivery(event: f.signed(f.payload("user.created.json"), id: "msg_overlap"), environment: deliveryEnvironment).answer()
        XCTAssertEqual(retry.status, 200)
        XCTAssertEqual(retry.body["apiKey"]?.stringValue, "already_active")
        XCTAssertEqual(try keys().filter { $0.status == "active" }.count, 1)
    }

    func testAnActivationThatFindsItsKeyGoneIsAConflictNotIssued() throws {
        // The key is revoked while the profile call is in flight (a user.deleted, an operator): the delivery
        // must not answer "issued" for a key that is not usable.
        profile.schedule = [1500]
        let event = try f.signed(f.payload("user.created.json"), id: "msg_gone")
        let delivery = Delivery(event: event, environment: deliveryEnvironment)
        XCTAssertTrue(profile.waitForRequests(1))
        try f.db.query("UPDATE api_keys SET status = 'revoked', revoked_at = now() WHERE status = 'pending'")
        let answer = try delivery.answer()
        XCTAssertEqual(answer.status, 409, "\(answer.body)")
        XCTAssertEqual(answer.body["error"]?.stringValue, "api_key_conflict")
        XCTAssertEqual(try keys().filter { $0.status == "active" }.count, 0)
    }
}
