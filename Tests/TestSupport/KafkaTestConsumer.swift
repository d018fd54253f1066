import CKafka
import LambdaRuntime
import LocalHosting

#if canImport(Glibc)
    import Glibc
#endif

/// The tests' Kafka broker (`scripts/with-kafka.sh` starts a private one).
public enum TestKafka {
    /// `KAFKA_BROKERS`, or a fatal error naming the command to run.
    public static var brokers: String {
        guard let brokers = Environment.process()["KAFKA_BROKERS"] else {
            fatalError("KAFKA_BROKERS is not set: run the tests with `make test`, which starts a private Kafka broker")
        }
        return brokers
    }

    /// Takes the broker away (`pause`) or brings it back (`resume`) on the same port; throws, naming what to do,
    /// when the run was given its broker from outside (a broker a test may not stop).
    public static func control(_ verb: String) throws {
        guard let script = Environment.process()["CLERK_LOCAL_KAFKA"] else {
            throw ServerControlError(
                """
                this test takes its Kafka broker away and back, and KAFKA_BROKERS was given from outside (CLERK_LOCAL_KAFKA is \
                not set): run it with KAFKA_BROKERS unset under scripts/with-kafka.sh (make test does), which starts a private broker
                """)
        }
        let r = try Subprocess.run(path: "/bin/bash", arguments: [script, verb], environment: Environment.process().values)
        guard r.exit.code == 0 else { throw ServerControlError("local-kafka.sh \(verb) failed: \(String(decoding: r.stderr, as: UTF8.self))") }
    }

    /// Creates `topic` (one partition) with topic-level `config` such as `max.message.bytes`; throws what the
    /// broker answered when it did not.
    public static func createTopic(_ topic: String, config: [String: String] = [:], brokers: String = TestKafka.brokers) throws {
        var err = [CChar](repeating: 0, count: 512)
        let conf = rd_kafka_conf_new()
        _ = rd_kafka_conf_set(conf, "bootstrap.servers", brokers, &err, err.count)
        guard let rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, &err, err.count) else { throw KafkaAdminError(reason: "client") }
        defer { rd_kafka_destroy(rk) }
        guard let newTopic = rd_kafka_NewTopic_new(topic, 1, 1, &err, err.count) else { throw KafkaAdminError(reason: "topic \(topic)") }
        defer { rd_kafka_NewTopic_destroy(newTopic) }
        for (name, value) in config { _ = rd_kafka_NewTopic_set_config(newTopic, name, value) }
        let queue = rd_kafka_queue_new(rk)
        defer { rd_kafka_queue_destroy(queue) }
        var topics: [OpaquePointer?] = [newTopic]
        rd_kafka_CreateTopics(rk, &topics, 1, nil, queue)
        guard let event = rd_kafka_queue_poll(queue, 10_000) else { throw KafkaAdminError(reason: "no answer") }
        defer { rd_kafka_event_destroy(event) }
        var count = 0
        guard let result = rd_kafka_event_CreateTopics_result(event),
            let first = rd_kafka_CreateTopics_result_topics(result, &count), count == 1, let only = first[0]
        else {
            throw KafkaAdminError(reason: String(cString: rd_kafka_event_error_string(event)))
        }
        let code = rd_kafka_topic_result_error(only)
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaAdminError(reason: String(cString: rd_kafka_err2name(code))) }
    }
}

/// The broker did not do what a test asked of it.
public struct KafkaAdminError: Error, CustomStringConvertible {
    public var reason: String
    public var description: String { "Kafka admin: \(reason)" }
}

/// A record read back from Kafka.
public struct ConsumedRecord: Sendable {
    public var topic: String
    public var partition: Int32
    public var key: String?
    public var value: String
    public var headers: [String: String]
}

/// A consumer in a group of its own that reads topics from the beginning, for assertions.
public final class KafkaTestConsumer {
    private let rk: OpaquePointer

    /// Subscribes to `topics` from their earliest offsets.
    public init(topics: [String], brokers: String = TestKafka.brokers) {
        let conf = rd_kafka_conf_new()
        var err = [CChar](repeating: 0, count: 512)
        for (k, v) in [
            ("bootstrap.servers", brokers), ("group.id", "test-\(getpid())-\(Clock.monotonicNs())"),
            ("auto.offset.reset", "earliest"), ("enable.auto.commit", "false"), ("log_level", "0")
        ] {
            _ = rd_kafka_conf_set(conf, k, v, &err, err.count)
        }
        guard let made = rd_kafka_new(RD_KAFKA_CONSUMER, conf, &err, err.count) else { fatalError("kafka consumer") }
        rk = made
        rd_kafka_poll_set_consumer(rk)
        let list = rd_kafka_topic_partition_list_new(Int32(topics.count))
        for t in topics { _ = rd_kafka_topic_partition_list_add(list, t, RD_KAFKA_PARTITION_UA) }
        _ = rd_kafka_subscribe(rk, list)
        rd_kafka_topic_partition_list_destroy(list)
    }

    deinit {
        _ = rd_kafka_consumer_close(rk)
        rd_kafka_destroy(rk)
    }

    /// Reads until `count` records arrived or `timeoutMs` passed, then (when `settleMs` > 0) a little longer to
    /// catch any extra (duplicate) record.
    public func read(count: Int, timeoutMs: Int64 = 15_000, settleMs: Int64 = 300) -> [ConsumedRecord] {
        var out: [ConsumedRecord] = []
        let stop = Int64(Clock.monotonicNs() / 1_000_000) + timeoutMs
        var settleUntil: Int64?
        while true {
            let now = Int64(Clock.monotonicNs() / 1_000_000)
            if let s = settleUntil { if now >= s { break } } else if now >= stop { break }
            guard let m = rd_kafka_consumer_poll(rk, 50) else { continue }
            defer { rd_kafka_message_destroy(m) }
            guard m.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR else { continue }
            let msg = m.pointee
            let key = msg.key.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: msg.key_len), as: UTF8.self) }
            let value = msg.payload.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: msg.len), as: UTF8.self) } ?? ""
            var headers: [String: String] = [:]
            for name in ["event-type", "outbox-id", "trace-id"] {
                var size = 0
                if let v = clerk_kafka_header(m, name, &size) {
                    headers[name] = String(decoding: UnsafeRawBufferPointer(start: v, count: size), as: UTF8.self)
                }
            }
            out.append(
                ConsumedRecord(
                    topic: String(cString: rd_kafka_topic_name(msg.rkt)), partition: msg.partition,
                    key: key, value: value, headers: headers))
            if out.count >= count && settleUntil == nil { settleUntil = Int64(Clock.monotonicNs() / 1_000_000) + settleMs }
        }
        return out
    }
}
