import ClerkFunctions
import ClerkKit
import JSON
import LambdaRuntime
import LocalHosting
import Messaging
import Store
import TestSupport
import XCTest

/// `publishOutbox` and the relay, against a real RabbitMQ broker: confirmed, in order, nothing lost, no duplicates.
final class PublishOutboxTests: XCTestCase {
    var f: WebhookFixture!
    var consumer: AMQPPublisher!

    // XCTest keeps every test case alive until the run ends: release its connections and servers now.
    override func tearDown() {
        f = nil
        consumer = nil
    }

    override func setUpWithError() throws {
        f = try WebhookFixture(extra: ["RABBITMQ_URL": TestBroker.url])
        consumer = AMQPPublisher(url: TestBroker.url)
        _ = try drain("api-key-mappings")
        _ = try drain("user-events")
    }

    func drain(_ queue: String) throws -> [JSONValue] {
        var out: [JSONValue] = []
        while let body = try consumer.get(queue) { out.append(try JSONValue.parse(body)) }
        return out
    }

    func pending() throws -> Int { try OutboxStore(connection: f.db).pendingCount() }

    func testWebhookDeliveriesReachTheBrokerAtTheEndOfTheInvocation() throws {
        _ = try f.invoke("onUserCreated", f.signed(f.userBody(type: "user.created", updatedAt: 1)))
        _ = try f.invoke("onUserUpdated", f.signed(f.userBody(updatedAt: 2, firstName: "Second")))
        let events = try drain("user-events")
        XCTAssertEqual(events.map { $0["type"]?.stringValue }, ["user.created", "user.updated"])
        XCTAssertEqual(events[1]["changed"], .object(["first_name": .string("Second")]), "only what changed")
        XCTAssertEqual(try pending(), 0)
        XCTAssertEqual(try f.db.query("SELECT count(*) AS n FROM outbox WHERE published_at IS NOT NULL").first?.decode("n", as: Int.self), 2)
    }

    func testTheScheduledFunctionPublishesEverythingInOrder() throws {
        for i in 0..<120 {
            try f.db.query("INSERT INTO outbox (queue, payload) VALUES ('user-events', jsonb_build_object('n', $1::int))", [i])
        }
        let out = try JSONValue.parse(f.harness.invoke("publishOutbox", event: BuiltProducts.event("publishOutbox.scheduled.json")))
        XCTAssertEqual(out["published"]?.doubleValue, 120)
        XCTAssertEqual(out["pending"]?.doubleValue, 0)
        XCTAssertEqual(try drain("user-events").map { Int($0["n"]?.doubleValue ?? -1) }, Array(0..<120))
    }

    func testABrokerOutageLosesNothingAndTheRowsGoOutInOrderWhenItReturns() throws {
        let down = try WebhookFixture(extra: ["RABBITMQ_URL": "amqp://guest:guest@127.0.0.1:1/", "RABBITMQ_TIMEOUT_MS": "500"])
        _ = try down.invoke("onUserCreated", down.signed(down.userBody(type: "user.created", updatedAt: 1)))
        _ = try down.invoke("onUserUpdated", down.signed(down.userBody(updatedAt: 2, firstName: "B")))
        XCTAssertTrue(down.logs.contains("outbox publish deferred"), "the webhook still succeeded")
        XCTAssertEqual(try pending(), 2)
        XCTAssertThrowsError(try down.harness.invoke("publishOutbox", event: Array("{}".utf8))) { error in
            guard case .functionError(let object)? = error as? HarnessError else { return XCTFail("\(error)") }
            XCTAssertEqual(object.errorType, "OutboxPublishError")
        }
        XCTAssertEqual(try pending(), 2, "nothing marked sent")
        XCTAssertEqual(try f.db.query("SELECT min(attempts) AS a FROM outbox").first?.decode("a", as: Int.self), 2)
        // The broker is back.
        let out = try JSONValue.parse(f.harness.invoke("publishOutbox", event: Array("{}".utf8)))
        XCTAssertEqual(out["published"]?.doubleValue, 2)
        XCTAssertEqual(try drain("user-events").map { $0["type"]?.stringValue }, ["user.created", "user.updated"])
    }

    /// Three relays in three processes at once, held together at the outbox (see `relaysHeldTogether`): one
    /// publishes every row, the others answer busy and send nothing, and the queue holds each row once, in the
    /// order written (each user's events in order). Without the relay lock all three read the same rows and
    /// published them three times.
    func testConcurrentPublishersNeverSendARowTwice() throws {
        let users = (0..<4).map { "user_c\($0)" }
        for n in 0..<150 {
            for u in users {
                try f.db.query(
                    """
                    INSERT INTO outbox (queue, payload) VALUES ('user-events', jsonb_build_object('clerkUserId', $1::text, 'n', $2::int))
                    """, [u, n])
            }
        }
        let total = 150 * users.count
        let env = childEnvironment(["DATABASE_URL": TestDatabase.url, "RABBITMQ_URL": TestBroker.url, "OUTBOX_BATCH_SIZE": "50"])
        let answers = try relaysHeldTogether(3, db: f.db) { ChildProcess(invoke: "publishOutbox", event: Array("{}".utf8), environment: env) }
        let published = answers.filter { $0["relay"] == nil }
        XCTAssertEqual(
            published, [.object(["published": .number(Double(total)), "pending": .number(0), "destinations": .string("rabbitmq")])],
            "one relay publishes every row: \(answers)")
        let busy = answers.filter { $0["relay"]?.stringValue == "busy" }
        XCTAssertEqual(busy.map { $0["published"]?.doubleValue }, [0, 0], "the others find the outbox held and send nothing: \(answers)")
        let received = try drain("user-events").map { m in
            (try XCTUnwrap(m["clerkUserId"]?.stringValue, "\(m)"), Int(try XCTUnwrap(m["n"]?.doubleValue, "\(m)")))
        }
        XCTAssertEqual(received.count, total, "every row once")
        XCTAssertEqual(
            received.map { "\($0.0)#\($0.1)" }, (0..<150).flatMap { n in users.map { "\($0)#\(n)" } },
            "once each, in the order written")
        XCTAssertEqual(try pending(), 0)
    }

    /// Runs `clerk-functions invoke publishOutbox` in a child process with these variables; its answer, once it
    /// ended with exit code 0.
    final class RelayProcess: @unchecked Sendable {
        private let process: ChildProcess

        init(_ environment: [String: String]) {
            process = ChildProcess(invoke: "publishOutbox", event: Array("{}".utf8), environment: childEnvironment(environment))
        }

        func answer(file: StaticString = #filePath, line: UInt = #line) throws -> JSONValue {
            let r = try process.result()
            XCTAssertEqual(r.exit.code, 0, r.stderr.text, file: file, line: line)
            return try JSONValue.parse(r.stdout)
        }
    }

    func testTwoRelaysOneStalledMidBatchKeepEachKeysOrder() throws {
        // An API key's mapping is set, then (its delivery retried) deleted; a user event sits between them.
        try f.db.query(
            """
            INSERT INTO outbox (queue, payload) VALUES
              ('api-key-mappings', '{"op":"set","key":"api_key:k1","value":"user_1"}'),
              ('user-events', '{"n":1}'),
              ('api-key-mappings', '{"op":"delete","key":"api_key:k1"}')
            """)
        // Relay A, in its own process, reads the first two rows and stalls publishing them.
        let proxy = try StallingBrokerProxy(target: TestBroker.url)
        let a = RelayProcess([
            "DATABASE_URL": TestDatabase.url, "RABBITMQ_URL": proxy.url, "OUTBOX_BATCH_SIZE": "2",
            "RABBITMQ_TIMEOUT_MS": "30000"
        ])
        XCTAssertTrue(proxy.waitUntilStalled(), "relay A is publishing its batch")
        // Relay B (the schedule, or a webhook's own publication) runs meanwhile, in another process.
        let b = try RelayProcess(["DATABASE_URL": TestDatabase.url, "RABBITMQ_URL": TestBroker.url]).answer()
        XCTAssertEqual(b["relay"]?.stringValue, "busy", "\(b)")
        XCTAssertEqual(b["published"]?.doubleValue, 0, "one relay at a time")
        proxy.release()
        XCTAssertEqual(try a.answer()["published"]?.doubleValue, 3, "relay A finishes the outbox")
        let mappings = try drain("api-key-mappings")
        XCTAssertEqual(mappings.map { $0["op"]?.stringValue }, ["set", "delete"], "the consumer sees the key's set before its delete")
        XCTAssertEqual(try drain("user-events").count, 1)
        XCTAssertEqual(try pending(), 0)
    }

    func testWithoutABrokerRowsWaitForAnotherRelay() throws {
        let none = try WebhookFixture()
        _ = try none.invoke("onUserCreated", none.signed(none.userBody(type: "user.created", updatedAt: 1)))
        let out = try JSONValue.parse(none.harness.invoke("publishOutbox", event: Array("{}".utf8)))
        XCTAssertEqual(out["relay"]?.stringValue, "disabled")
        XCTAssertEqual(out["pending"]?.doubleValue, 1)
    }
}

/// The real broker goes away and comes back (same node, same data): nothing lost, nothing twice.
final class BrokerOutageTests: XCTestCase {
    func testTheBrokerGoesAwayAndComesBack() throws {
        // It stops and restarts its broker: never one given from outside, and never something else in its place.
        let script = try XCTUnwrap(
            Environment.process()["CLERK_LOCAL_RABBITMQ"],
            """
            this test pauses and resumes its RabbitMQ node, and RABBITMQ_URL was given from outside (CLERK_LOCAL_RABBITMQ \
            is not set): run it with RABBITMQ_URL unset under scripts/with-broker.sh (make test does), which starts a private node
            """)
        func broker(_ verb: String) throws {
            let r = try Subprocess.run(path: "/bin/bash", arguments: [script, verb], environment: Environment.process().values)
            XCTAssertEqual(r.exit.code, 0, r.stderr.text)
        }
        let f = try WebhookFixture(extra: ["RABBITMQ_URL": TestBroker.url, "RABBITMQ_TIMEOUT_MS": "1000"])
        let consumer = AMQPPublisher(url: TestBroker.url)
        while try consumer.get("user-events") != nil {}
        func insert(_ range: Range<Int>) throws {
            for i in range { try f.db.query("INSERT INTO outbox (queue, payload) VALUES ('user-events', jsonb_build_object('n', $1::int))", [i]) }
        }
        // One warm "process" (harness) throughout, as a Lambda container would be.
        try insert(0..<40)
        XCTAssertEqual(try JSONValue.parse(f.harness.invoke("publishOutbox", event: Array("{}".utf8)))["published"]?.doubleValue, 40)
        var received: [Int] = []
        while let b = try consumer.get("user-events") { received.append(Int(try JSONValue.parse(b)["n"]?.doubleValue ?? -1)) }
        consumer.close()

        try broker("pause")
        try insert(40..<80)
        XCTAssertThrowsError(try f.harness.invoke("publishOutbox", event: Array("{}".utf8)))
        XCTAssertEqual(try OutboxStore(connection: f.db).pendingCount(), 40, "nothing lost while the broker is away")
        try broker("resume")

        XCTAssertEqual(
            try JSONValue.parse(f.harness.invoke("publishOutbox", event: Array("{}".utf8)))["published"]?.doubleValue, 40,
            "the warm relay reconnects by itself")
        while let b = try consumer.get("user-events") { received.append(Int(try JSONValue.parse(b)["n"]?.doubleValue ?? -1)) }
        XCTAssertEqual(received, Array(0..<80), "every message once, in order")
        XCTAssertEqual(try OutboxStore(connection: f.db).pendingCount(), 0)
    }
}
