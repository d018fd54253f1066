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

/// `bench-outbox`: outbox rows to RabbitMQ with publisher confirms, next to the same messages published
/// straight through `AMQPPublisher` (the broker alone) in the same run; to Kafka, next to the producer alone
/// (`OutboxBenchmark+Kafka`); and onUserCreated end to end (`OutboxBenchmark+EndToEnd`). Every relay must
/// publish every row, and the broker must hold exactly what was published.
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

    /// `count` user.updated rows in the outbox, none published.
    static func fill(_ c: PostgresConnection, count: Int) throws {
        try c.query(
            """
            INSERT INTO outbox (queue, payload)
            SELECT 'user-events', jsonb_build_object('type', 'user.updated', 'userId', gen_random_uuid(), 'clerkUserId',
                   'user_bench_' || g, 'environment', 'production', 'changed', jsonb_build_object('first_name', 'Ada ' || g))
              FROM generate_series(1, $1::int) g
            """, [count])
    }

    /// What `publishOutbox` answered: rows published, rows left pending.
    static func relayAnswer(_ out: [UInt8]) throws -> (published: Int, pending: Int) {
        let answer = try JSONValue.parse(out)
        return (Int(answer["published"]?.doubleValue ?? -1), Int(answer["pending"]?.doubleValue ?? -1))
    }

    static func publish(db: String, broker: String, count: Int) throws {
        let c = try PostgresConnection(url: db)
        try Migrator.migrate(c)
        try c.query("TRUNCATE outbox")
        let consumer = AMQPPublisher(url: broker)
        _ = try drain(consumer, "user-events")
        _ = try drain(consumer, "bench-floor")
        try fill(c, count: count)
        let rows = try c.query("SELECT id, payload::text AS p FROM outbox WHERE published_at IS NULL ORDER BY id")
            .map { (id: try $0.decode("id", as: Int64.self), payload: try $0.decode("p", as: String.self)) }
        let harness = LocalHarness(
            registry: Functions.registry,
            environment: Environment([
                "DATABASE_URL": db, "RABBITMQ_URL": broker, "OUTBOX_BATCH_SIZE": "500"
            ]), logger: Logger(level: .warning))
        let t0 = Clock.monotonicNs()
        let (published, pending) = try relayAnswer(harness.invoke("publishOutbox", event: Array("{}".utf8), timeoutMs: 300_000))
        let seconds = Double(Clock.monotonicNs() - t0) / 1e9
        Tally.expect("outbox relay published", published, count)
        Tally.expect("outbox relay left pending", pending, 0)
        Tally.expect("outbox rows marked published", try OutboxStore(connection: c).pendingCount(), 0)
        let held = try drain(consumer, "user-events")
        Tally.expect("outbox messages on the user-events queue", held, count)
        // The floor: the same bodies and message ids, batches of 500, through a fresh publisher (it connects
        // inside the timing, as the relay did), confirms awaited; no database.
        let messages = rows.map { AMQPMessage(queue: "bench-floor", body: Array($0.payload.utf8), messageId: "outbox-\($0.id)") }
        let publisher = AMQPPublisher(url: broker)
        var confirmed = 0
        let t1 = Clock.monotonicNs()
        var i = 0
        while i < messages.count {
            confirmed += try publisher.publish(Array(messages[i..<min(i + 500, messages.count)]))
            i += 500
        }
        let floorSeconds = Double(Clock.monotonicNs() - t1) / 1e9
        Tally.expect("outbox floor messages confirmed", confirmed, count)
        Tally.expect("outbox floor messages on the bench-floor queue", try drain(consumer, "bench-floor"), count)
        let rate = Double(published) / seconds
        let floor = Double(confirmed) / floorSeconds
        print("outbox -> RabbitMQ (durable queue, persistent messages, publisher confirms, batches of 500), loopback:")
        print(
            "  \(published) messages in \(fmt(seconds, 2)) s: \(fmt(rate, 0)) messages/s; broker holds \(held); "
                + "AMQPPublisher alone: \(fmt(floor, 0)) messages/s")
        print("RESULT outbox messages_per_s=\(fmt(rate, 0)) published=\(published)/\(count) floor_messages_per_s=\(fmt(floor, 0))")
        print("RATIO outbox_rabbitmq_vs_publisher_alone=\(fmt(rate / floor, 2))")
    }
}
