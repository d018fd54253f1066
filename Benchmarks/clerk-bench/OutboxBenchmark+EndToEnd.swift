import ClerkFunctions
import ClerkKit
import DevTools
import JSON
import LambdaRuntime
import LocalHosting
import Messaging
import Store

#if canImport(Glibc)
    import Glibc
#endif

extension OutboxBenchmark {
    /// Counts the profile service calls that reached the receiver.
    final class Counter: @unchecked Sendable {
        private let lock = ConditionLock()
        private var n = 0
        func add() { lock.withLock { n += 1 } }
        var value: Int { lock.withLock { n } }
    }

    /// onUserCreated end to end: each delivery must answer 200 `processed` with a key issued, the profile
    /// receiver must get one call a user, and every outbox row the deliveries wrote must be on its queue.
    static func endToEnd(db: String, broker: String, count: Int) throws {
        let c = try PostgresConnection(url: db)
        try c.query("TRUNCATE users, webhook_deliveries, api_keys, outbox CASCADE")
        let consumer = AMQPPublisher(url: broker)
        for queue in ["user-events", "api-key-mappings"] { _ = try drain(consumer, queue) }
        let calls = Counter()
        let receiver = try LoopbackHTTPServer { _ in
            calls.add()
            return .json(200, #"{"ok":true}"#)
        }
        let secret = WebhookSigner.newSecret()
        let signer = WebhookSigner(secret: try WebhookSecret(secret))
        let harness = LocalHarness(
            registry: Functions.registry,
            environment: Environment([
                "DATABASE_URL": db, "RABBITMQ_URL": broker, "CLERK_WEBHOOK_SECRET": secret,
                "PROFILE_SERVICE_URL": receiver.baseURL + "/profiles", "PROFILE_SERVICE_API_KEY": "bench"
            ]), logger: Logger(level: .warning))
        let template = try FileIO.readText("events/payloads/user.created.json")
        let events = (0..<count).map { i -> [UInt8] in
            let body = Array(template.replacingAll("user_2Zs8PqLwX4nT6kVb9cRj1mHdYeF", with: "user_e2e_\(i)").utf8)
            return WebhookEventBuilder.httpEvent(
                body: body,
                headers: signer.headers(
                    id: WebhookSigner.newMessageId(),
                    timestamp: Clock.nowSeconds(), body: body))
        }
        var outputs: [[UInt8]] = []
        outputs.reserveCapacity(count)
        let t0 = Clock.monotonicNs()
        for e in events { outputs.append(try harness.invoke("onUserCreated", event: e)) }
        let seconds = Double(Clock.monotonicNs() - t0) / 1e9
        var issued = Tally("onUserCreated deliveries answered 200 processed with a key issued")
        for out in outputs {
            let key = APIAnswer(out)?.body["apiKey"]?.stringValue ?? "none"
            issued.record(keyIssued(out), else: APIAnswer.summary(out) + ", apiKey \(key)")
        }
        issued.require(count)
        Tally.expect("onUserCreated profile service calls", calls.value, count)
        let pending = try OutboxStore(connection: c).pendingCount()
        Tally.expect("onUserCreated outbox rows left pending", pending, 0)
        for row in try c.query("SELECT queue, count(*)::int AS n FROM outbox GROUP BY queue ORDER BY queue") {
            let queue = try row.decode("queue", as: String.self)
            Tally.expect("onUserCreated messages on \(queue)", try drain(consumer, queue), try row.decode("n", as: Int.self))
        }
        print("onUserCreated end to end (verify, sync, key, profile POST on loopback, outbox published in the same invocation):")
        print(
            "  \(count) users in \(fmt(seconds, 2)) s: \(fmt(Double(count) / seconds, 0)) users/s, \(issued.passed) keys issued, \(pending) outbox rows left pending"
        )
        print("RESULT onUserCreated users_per_s=\(fmt(Double(count) / seconds, 0)) issued=\(issued.passed)/\(count)")
        try c.query("TRUNCATE users, webhook_deliveries, api_keys, outbox CASCADE")
    }

    /// Whether a webhook answer is HTTP 200, `status: processed`, with an API key issued.
    static func keyIssued(_ out: [UInt8]) -> Bool {
        guard let answer = APIAnswer(out), answer.status == 200 else { return false }
        return answer.body["status"]?.stringValue == "processed" && answer.body["apiKey"]?.stringValue == "issued"
    }
}
