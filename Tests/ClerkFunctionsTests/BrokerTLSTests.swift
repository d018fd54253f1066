import ClerkFunctions
import JSON
import LambdaRuntime
import LocalHosting
import Messaging
import Store
import TestSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// The relay to `amqps://` brokers (Amazon MQ for RabbitMQ and most hosted ones accept only TLS), against the
/// private node's TLS listener and its throwaway CA (scripts/with-broker.sh): verified, or a clear error with
/// every row still pending. The publisher's own TLS checks are in MessagingTests (AMQPPublisherTLSTests).
final class BrokerTLSTests: XCTestCase {
    var f: WebhookFixture!
    var tlsURL = ""
    var caFile = ""

    // XCTest keeps every test case alive until the run ends: release its connections and servers now.
    override func tearDown() { f = nil }

    override func setUpWithError() throws {
        // Never skipped: scripts/with-broker.sh always opens the TLS listener.
        tlsURL = try XCTUnwrap(Environment.process()["RABBITMQ_TLS_URL"], "RABBITMQ_TLS_URL is not set: run the tests through scripts/with-broker.sh")
        caFile = try XCTUnwrap(Environment.process()["RABBITMQ_TLS_CA_FILE"], "RABBITMQ_TLS_CA_FILE is not set")
        f = try WebhookFixture()
        let consumer = AMQPPublisher(url: TestBroker.url)
        while try consumer.get("user-events") != nil {}
    }

    func insert(_ n: Int) throws {
        for i in 0..<n { try f.db.query("INSERT INTO outbox (queue, payload) VALUES ('user-events', jsonb_build_object('n', $1::int))", [i]) }
    }

    func relay(_ extra: [String: String]) -> LocalHarness {
        var env = ["DATABASE_URL": TestDatabase.url, "RABBITMQ_TIMEOUT_MS": "3000"]
        for (k, v) in extra { env[k] = v }
        return LocalHarness(registry: Functions.registry, environment: Environment(env), logger: Logger(level: .error))
    }

    func testTheRelayPublishesOverTLSWithTheConfiguredCA() throws {
        XCTAssertTrue(tlsURL.hasPrefix("amqps://"))
        try insert(5)
        let out = try JSONValue.parse(relay(["RABBITMQ_URL": tlsURL, "RABBITMQ_CA_FILE": caFile]).invoke("publishOutbox", event: Array("{}".utf8)))
        XCTAssertEqual(out["published"]?.doubleValue, 5, "\(out)")
        XCTAssertEqual(try OutboxStore(connection: f.db).pendingCount(), 0)
        // The same broker over plain AMQP has them: they went through the TLS listener to the real node.
        let consumer = AMQPPublisher(url: TestBroker.url)
        var received: [Int] = []
        while let b = try consumer.get("user-events") { received.append(Int(try JSONValue.parse(b)["n"]?.doubleValue ?? -1)) }
        XCTAssertEqual(received, Array(0..<5))
        // And a TLS consumer reads too (basic.get over the same socket kind).
        let tls = AMQPPublisher(url: tlsURL, caFile: caFile)
        XCTAssertEqual(try tls.publish([AMQPMessage(queue: "user-events", body: Array(#"{"n":99}"#.utf8))]), 1)
        XCTAssertEqual(try tls.get("user-events").map { try JSONValue.parse($0)["n"]?.doubleValue }, 99)
    }

    func testAnUntrustedCertificateIsAClearErrorAndRowsStayPending() throws {
        // Another throwaway CA (the openssl CLI), and the system bundle: neither signed the node's certificate.
        let dir = "/tmp/clerk-tls-test-\(getpid())-\(Clock.monotonicNs())"
        XCTAssertEqual(mkdir(dir, 0o700), 0)
        defer { _ = try? Subprocess.run(path: "/bin/rm", arguments: ["-rf", dir], environment: childEnvironment([:])) }
        let made = try Subprocess.run(
            path: "/usr/bin/openssl",
            arguments: [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=some other CA",
                "-keyout", dir + "/other.key", "-out", dir + "/other.pem"
            ], environment: childEnvironment([:]))
        XCTAssertEqual(made.exit.code, 0, made.stderr.text)
        try insert(3)
        for extra in [["RABBITMQ_CA_FILE": dir + "/other.pem"], [:]] {
            let harness = relay(["RABBITMQ_URL": tlsURL].merging(extra) { $1 })
            XCTAssertThrowsError(try harness.invoke("publishOutbox", event: Array("{}".utf8))) { error in
                guard case .functionError(let object)? = error as? HarnessError else { return XCTFail("\(error)") }
                XCTAssertEqual(object.errorType, "OutboxPublishError")
                XCTAssertTrue(object.errorMessage.contains("TLS"), object.errorMessage)
                XCTAssertTrue(object.errorMessage.contains("is its certificate signed by a CA in"), object.errorMessage)
            }
            XCTAssertEqual(try OutboxStore(connection: f.db).pendingCount(), 3, "nothing marked sent")
        }
        XCTAssertEqual(try f.db.query("SELECT min(attempts) AS a FROM outbox").first?.decode("a", as: Int.self), 2)
        XCTAssertTrue(try f.db.query("SELECT last_error FROM outbox LIMIT 1").first?.decode("last_error", as: String.self).contains("TLS") ?? false)
    }
}
