import ClerkFunctions
import JSON
import LambdaRuntime
import LocalHosting
import Messaging
import Store

#if canImport(Glibc)
    import Glibc
#endif

extension OutboxBenchmark {
    /// The same rows to Kafka: idempotent producer, acks=all, a row marked published after its delivery report.
    /// The floor is librdkafka alone producing the same bytes with the same settings, in this process.
    static func publishKafka(db: String, brokers: String, count: Int) throws {
        let c = try PostgresConnection(url: db)
        try c.query("TRUNCATE outbox")
        let prefix = "bench\(getpid())."
        let harness = LocalHarness(
            registry: Functions.registry,
            environment: Environment([
                "DATABASE_URL": db, "KAFKA_BROKERS": brokers, "KAFKA_TOPIC_PREFIX": prefix, "OUTBOX_BATCH_SIZE": "500"
            ]),
            logger: Logger(level: .warning))
        let producer = try KafkaPublisher(options: .init(brokers: brokers, timeoutMs: 10_000))
        // A warm container: its producer has its id from the broker and the topics exist (MSK does not create
        // them), so one message each first, outside the timing. A cold producer's first batch waited about a
        // second here (topic creation and the idempotent producer's id).
        try c.query("INSERT INTO outbox (queue, payload) VALUES ('user-events', '{\"type\":\"warm\"}')")
        let warm = try relayAnswer(harness.invoke("publishOutbox", event: Array("{}".utf8), timeoutMs: 60_000))
        Tally.expect("outbox_kafka warm-up row published", warm.published, 1)
        let warmFloor = try producer.publish([KafkaMessage(topic: prefix + "floor", key: "warm", value: Array("{}".utf8))], timeoutMs: 10_000)
        Tally.expect("outbox_kafka warm-up floor message delivered", warmFloor, 1)
        try fill(c, count: count)
        let payloads = try c.query("SELECT payload::text AS p FROM outbox WHERE published_at IS NULL ORDER BY id")
            .map { try $0.decode("p", as: String.self) }
        let t0 = Clock.monotonicNs()
        let (published, pending) = try relayAnswer(harness.invoke("publishOutbox", event: Array("{}".utf8), timeoutMs: 300_000))
        let seconds = Double(Clock.monotonicNs() - t0) / 1e9
        Tally.expect("outbox_kafka relay published", published, count)
        Tally.expect("outbox_kafka relay left pending", pending, 0)
        Tally.expect("outbox_kafka rows marked published", try OutboxStore(connection: c).pendingCount(), 0)
        // Floor: the producer alone, same batches, no database.
        let messages = payloads.enumerated().map { i, p in
            KafkaMessage(
                topic: prefix + "floor", key: "user_bench_\(i)", value: Array(p.utf8),
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
        Tally.expect("outbox_kafka floor messages delivered", sent, count)
        let rate = Double(published) / seconds
        let floor = Double(sent) / floorSeconds
        print("outbox -> Kafka (idempotent producer, acks=all, batches of 500), loopback noida-db broker:")
        print("  \(published) messages in \(fmt(seconds, 2)) s: \(fmt(rate, 0)) messages/s; producer alone: \(fmt(floor, 0)) messages/s")
        print("RESULT outbox_kafka messages_per_s=\(fmt(rate, 0)) published=\(published)/\(count) floor_messages_per_s=\(fmt(floor, 0))")
        print("RATIO outbox_kafka_vs_producer_alone=\(fmt(rate / floor, 2))")
    }
}
