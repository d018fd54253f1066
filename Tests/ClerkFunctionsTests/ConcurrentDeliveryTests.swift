import ClerkFunctions
import ClerkKit
import JSON
import LambdaRuntime
import LocalHosting
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
    override func tearDown() {
        profile = nil
        f = nil
    }

    override func setUpWithError() throws {
        profile = try ProfileReceiver()
        f = try WebhookFixture(extra: ["PROFILE_SERVICE_URL": profile.url, "PROFILE_SERVICE_TIMEOUT_MS": "10000"])
    }

    /// `clerk-functions invoke onUserCreated` in a child process, started now; the answer when it ends.
    final class Delivery: @unchecked Sendable {
        private let process: ChildProcess

        init(event: [UInt8], environment: [String: String]) {
            process = ChildProcess(invoke: "onUserCreated", event: event, environment: TestSupport.childEnvironment(environment))
        }

        /// The HTTP status and body the function answered, once it ended with exit code 0.
        func answer(file: StaticString = #filePath, line: UInt = #line) throws -> (status: Int, body: JSONValue) {
            let a = try process.answer()
            XCTAssertEqual(a.exit, 0, a.logs, file: file, line: line)
            return (a.status, a.body)
        }
    }

    var deliveryEnvironment: [String: String] {
        [
            "DATABASE_URL": TestDatabase.url, "PROD_CLERK_WEBHOOK_SECRET": f.prodSecret, "PROFILE_SERVICE_URL": profile.url,
            "PROFILE_SERVICE_TIMEOUT_MS": "10000"
        ]
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

    /// Three deliveries of one `user.created`, in three processes held together inside the key claim: the test
    /// holds `api_keys` against writes (reads go on), so the claim that locked the user row waits at its first
    /// write and every other claim waits for that row (or, were the row not locked, at the same write), and
    /// lets go once all three wait. The user row lock is what makes the claims take turns: one key is claimed
    /// and sent, the other deliveries find its live lease and are told to come back. Without the lock every
    /// claim passed its checks before any wrote, each recorded a pending key and sent it to the profile service.
    /// The profile service holds the first key it gets until two deliveries have answered, so that they meet the
    /// lease of a key in flight (not, by the time they look, an active key) on every run.
    func testDeliveriesHeldTogetherInsideTheKeyClaimClaimOneKey() throws {
        let event = try f.signed(f.payload("user.created.json"), id: "msg_claim_race")
        profile.hold(next: 1)
        defer { profile.releaseHeld() }
        let gate = try LockGate(["LOCK TABLE api_keys IN SHARE MODE"])
        let deliveries = (0..<3).map { _ in
            ChildProcess(invoke: "onUserCreated", event: event, environment: TestSupport.childEnvironment(deliveryEnvironment))
        }
        let waiting = try gate.waitForWaiters(deliveries.count)
        XCTAssertEqual(waiting.count, deliveries.count, "every claim is under way before any is let go: \(waiting)")
        for w in waiting {
            XCTAssertTrue(
                w.query.contains("FROM users WHERE id = $1") || w.query.contains("UPDATE api_keys SET status = 'revoked'"),
                "waits inside the claim: \(w.query)")
        }
        try gate.release()
        XCTAssertTrue(profile.waitForRequests(1), "a key reached the profile service")
        // Polled with a bound (no thread signals a process's end): a hang fails here, it is not a timing assertion.
        let deadline = Clock.nowMs() + 60_000
        var finished = 0
        while finished < 2 && Clock.nowMs() < deadline {
            usleep(10_000)
            finished = deliveries.filter(\.isFinished).count
        }
        XCTAssertEqual(finished, 2, "two deliveries answer while the first key is at the profile service")
        profile.releaseHeld()

        let answers = try deliveries.map { try $0.answer() }
        for a in answers {
            XCTAssertEqual(a.exit, 0, a.logs)
            XCTAssertTrue(a.status == 200 || a.status == 409, "\(a.status) \(a.body)")
        }
        let issued = answers.filter { $0.status == 200 }
        XCTAssertEqual(issued.count, 1, "one delivery issues the key: \(answers.map(\.body))")
        XCTAssertEqual(issued.first?.body["apiKey"]?.stringValue, "issued", "\(answers.map(\.body))")
        let refused = answers.filter { $0.status == 409 }
        XCTAssertEqual(refused.count, 2, "the others are told to come back later: \(answers.map(\.body))")
        XCTAssertEqual(refused.map { $0.body["error"]?.stringValue }, ["api_key_conflict", "api_key_conflict"])
        XCTAssertEqual(
            Set(answers.compactMap { $0.body["status"]?.stringValue }).subtracting(["processed", "duplicate"]), [],
            "\(answers.map(\.body))")

        XCTAssertEqual(try keys().count, 1, "one claim: one key recorded")
        XCTAssertEqual(profile.received.count, 1, "one key sent to the profile service")
        let active = try keys().filter { $0.status == "active" }
        XCTAssertEqual(active.count, 1, "exactly one usable key")
        XCTAssertEqual(
            active.first?.hash, APIKey.hash(of: try key(in: try XCTUnwrap(profile.received.first))),
            "the active key is the one the profile service got")
        XCTAssertEqual(
            try f.db.query("SELECT count(*) AS n FROM outbox WHERE queue = 'api-key-mappings'").first?.decode("n", as: Int.self), 1,
            "one mapping")
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
