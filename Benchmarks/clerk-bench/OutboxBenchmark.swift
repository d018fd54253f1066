import DevTools
import JSON
import LocalHosting
import ClerkFunctions
import ClerkKit
import LambdaRuntime
import Messaging
import Store
#if canImport(Glibc)
import Glibc
#endif

/// `bench-outbox`: outbox rows to RabbitMQ with publisher confirms, and onUserCreated end to end
/// (verify, sync, key, profile call, publish) with a profile receiver on loopback.
enum OutboxBenchmark {
    static func run(_ options: BenchOptions) {
        let env = Environment.process()
        guard let db = env["DATABASE_URL"], let broker = env["RABBITMQ_URL"] else {
            print("DATABASE_URL and RABBITMQ_URL must be set: run through `make bench-outbox`")
            exit(1)
        }
        do {
            try publish(db: db, broker: broker, count: options.int("messages", 20_000))
            if let kafka = env["KAFKA_BROKERS"] { try publishKafka(db: db, brokers: kafka, count: options.int("messages", 20_000)) }
            try endToEnd(db: db, broker: broker, count: options.int("users", 1_000))
        } catch {
            print("outbox benchmark failed: \(error)")
            exit(1)
        }
    }

    static func drain(_ consumer: AMQPPublisher, _ queue: String) throws -> Int {
        var n = 0
        while try consumer.get(queue) != nil { n += 1 }
        return n
    }

    static func publish(db: String, broker: String, count: Int) throws {
        let c = try PostgresConnection(url: db)
        try Migrator.migrate(c)
        try c.query("TRUNCATE outbox")
        let consumer = AMQPPublisher(url: broker)
        _ = try drain(consumer, "user-events")
        try c.query("""
            INSERT INTO outbox (queue, payload)
            SELECT 'user-events', jsonb_build_object('type', 'user.updated', 'userId', gen_random_uuid(), 'clerkUserId',
                   'user_bench_' || g, 'environment', 'production', 'changed', jsonb_build_object('first_name', 'Ada ' || g))
              FROM generate_series(1, $1::int) g
            """, [count])
        let harness = LocalHarness(registry: Functions.registry, environment: Environment([
            "DATABASE_URL": db, "RABBITMQ_URL": broker, "OUTBOX_BATCH_SIZE": "500"]), logger: Logger(level: .warning))
        let t0 = Clock.monotonicNs()
        let out = try JSONValue.parse(harness.invoke("publishOutbox", event: Array("{}".utf8), timeoutMs: 300_000))
        let seconds = Double(Clock.monotonicNs() - t0) / 1e9
        let published = Int(out["published"]?.doubleValue ?? 0)
        print("outbox -> RabbitMQ (durable queue, persistent messages, publisher confirms, batches of 500), loopback:")
        print("  \(published) messages in \(fmt(seconds, 2)) s: \(fmt(Double(published) / seconds, 0)) messages/s; broker holds \(try drain(consumer, "user-events"))")
        print("RESULT outbox messages_per_s=\(fmt(Double(published) / seconds, 0)) published=\(published)/\(count)")
    }

    /// The same rows to Kafka: idempotent producer, acks=all, a row marked published after its delivery report.
    /// The floor is librdkafka alone producing the same bytes with the same settings, in this process.
    static func publishKafka(db: String, brokers: String, count: Int) throws {
        let c = try PostgresConnection(url: db)
        try c.query("TRUNCATE outbox")
        let prefix = "bench\(getpid())."
        let harness = LocalHarness(registry: Functions.registry, environment: Environment([
            "DATABASE_URL": db, "KAFKA_BROKERS": brokers, "KAFKA_TOPIC_PREFIX": prefix, "OUTBOX_BATCH_SIZE": "500"]),
            logger: Logger(level: .warning))
        let producer = try KafkaPublisher(options: .init(brokers: brokers, timeoutMs: 10_000))
        // A warm container: its producer has its id from the broker and the topics exist (MSK does not create
        // them), so one message each first, outside the timing. A cold producer's first batch waited about a
        // second here (topic creation and the idempotent producer's id).
        try c.query("INSERT INTO outbox (queue, payload) VALUES ('user-events', '{\"type\":\"warm\"}')")
        _ = try harness.invoke("publishOutbox", event: Array("{}".utf8), timeoutMs: 60_000)
        _ = try producer.publish([KafkaMessage(topic: prefix + "floor", key: "warm", value: Array("{}".utf8))], timeoutMs: 10_000)
        try c.query("""
            INSERT INTO outbox (queue, payload)
            SELECT 'user-events', jsonb_build_object('type', 'user.updated', 'userId', gen_random_uuid(), 'clerkUserId',
                   'user_bench_' || g, 'environment', 'production', 'changed', jsonb_build_object('first_name', 'Ada ' || g))
              FROM generate_series(1, $1::int) g
            """, [count])
        let payloads = try c.query("SELECT payload::text AS p FROM outbox WHERE published_at IS NULL ORDER BY id")
            .map { try $0.decode("p", as: String.self) }
        let t0 = Clock.monotonicNs()
        let out = try JSONValue.parse(harness.invoke("publishOutbox", event: Array("{}".utf8), timeoutMs: 300_000))
        let seconds = Double(Clock.monotonicNs() - t0) / 1e9
        let published = Int(out["published"]?.doubleValue ?? 0)
        // Floor: the producer alone, same batches, no database.
        let messages = payloads.enumerated().map { i, p in
            KafkaMessage(topic: prefix + "floor", key: "user_bench_\(i)", value: Array(p.utf8),
                         headers: [KafkaHeader("event-type", "user.updated"), KafkaHeader("outbox-id", String(i))])
        }
        let t1 = Clock.monotonicNs()
        var sent = 0
        var i = 0
        while i < messages.count {
            sent += try producer.publish(Array(messages[i..<min(i + 500, messages.count)]), timeoutMs: 30_000)
            i += 500
        }
        let floorSeconds = Double(Clock.monotonicNs() - t1) / 1e9
        let rate = Double(published) / seconds, floor = Double(sent) / floorSeconds
        print("outbox -> Kafka (idempotent producer, acks=all, batches of 500), loopback noida-db broker:")
        print("  \(published) messages in \(fmt(seconds, 2)) s: \(fmt(rate, 0)) messages/s; producer alone: \(fmt(floor, 0)) messages/s")
        print("RESULT outbox_kafka messages_per_s=\(fmt(rate, 0)) published=\(published)/\(count) floor_messages_per_s=\(fmt(floor, 0))")
        print("RATIO outbox_kafka_vs_producer_alone=\(fmt(rate / floor, 2))")
    }

    static func endToEnd(db: String, broker: String, count: Int) throws {
        let c = try PostgresConnection(url: db)
        try c.query("TRUNCATE users, webhook_deliveries, api_keys, outbox CASCADE")
        let receiver = try LoopbackHTTPServer { _ in .json(200, #"{"ok":true}"#) }
        let secret = WebhookSigner.newSecret()
        let signer = WebhookSigner(secret: try WebhookSecret(secret))
        let harness = LocalHarness(registry: Functions.registry, environment: Environment([
            "DATABASE_URL": db, "RABBITMQ_URL": broker, "CLERK_WEBHOOK_SECRET": secret,
            "PROFILE_SERVICE_URL": receiver.baseURL + "/profiles", "PROFILE_SERVICE_API_KEY": "bench"]), logger: Logger(level: .warning))
        let template = try FileIO.readText("events/payloads/user.created.json")
        let events = (0..<count).map { i -> [UInt8] in
            let body = Array(template.replacingAll("user_2Zs8PqLwX4nT6kVb9cRj1mHdYeF", with: "user_e2e_\(i)").utf8)
            return WebhookEventBuilder.httpEvent(body: body, headers: signer.headers(id: WebhookSigner.newMessageId(),
                                                                                     timestamp: Clock.nowSeconds(), body: body))
        }
        var issued = 0
        let t0 = Clock.monotonicNs()
        for e in events {
            let out = try JSONValue.parse(harness.invoke("onUserCreated", event: e))
            if out["body"]?.stringValue?.contains("\"apiKey\":\"issued\"") == true { issued += 1 }
        }
        let seconds = Double(Clock.monotonicNs() - t0) / 1e9
        let pending = try OutboxStore(connection: c).pendingCount()
        print("onUserCreated end to end (verify, sync, key, profile POST on loopback, outbox published in the same invocation):")
        print("  \(count) users in \(fmt(seconds, 2)) s: \(fmt(Double(count) / seconds, 0)) users/s, \(issued) keys issued, \(pending) outbox rows left pending")
        print("RESULT onUserCreated users_per_s=\(fmt(Double(count) / seconds, 0)) issued=\(issued)/\(count)")
        try c.query("TRUNCATE users, webhook_deliveries, api_keys, outbox CASCADE")
    }
}
