import HTTPClient
import JSON
import LambdaRuntime
import Messaging
import Store

#if canImport(Glibc)
    import Glibc
#endif

/// A broker the outbox relays to. `publish` sends a batch in order and answers how many leading messages the
/// broker confirmed, why it stopped short, whether the message it stopped at is refused for good, and which
/// messages a later message of their key overtook; the relay marks a row published when every destination did.
protocol OutboxDestination: AnyObject {
    /// `rabbitmq` or `kafka`, for logs and answers.
    var name: String { get }
    func publish(_ batch: [OutboxMessage], budgetMs: Int, traceId: String) -> OutboxSendResult
}

/// RabbitMQ: durable queues named after the outbox's queues, persistent messages, publisher confirms.
final class RabbitMQDestination: OutboxDestination {
    let name = "rabbitmq"
    private let publisher: AMQPPublisher

    init(url: String, timeoutMs: Int, caFile: String?) { publisher = AMQPPublisher(url: url, timeoutMs: timeoutMs, caFile: caFile) }

    func publish(_ batch: [OutboxMessage], budgetMs: Int, traceId: String) -> OutboxSendResult {
        do {
            // The same trace header the Kafka destination sends, so a consumer can join the delivery's trace.
            let headers = traceId.isEmpty ? [] : [(name: "trace-id", value: traceId)]
            let confirmed = try publisher.publish(
                batch.map {
                    AMQPMessage(queue: $0.queue, body: Array($0.payload.utf8), messageId: "outbox-" + String($0.id), headers: headers)
                }, budgetMs: budgetMs)
            guard confirmed < batch.count else { return OutboxSendResult(confirmed: confirmed, error: nil) }
            return OutboxSendResult(confirmed: confirmed, error: "not every message was confirmed", outage: KafkaOutage.unavailable.rawValue)
        } catch {
            // RabbitMQ refuses no message for good here (a nack is retried): whatever stopped it is an outage.
            return OutboxSendResult(confirmed: 0, error: "\(error)", outage: KafkaOutage.unavailable.rawValue)
        }
    }
}

/// Kafka (Amazon MSK): topics named as the queues (with `KAFKA_TOPIC_PREFIX`), keyed by the entity the
/// message is about so one user's (or one API key's, or one organization's) messages keep their order within
/// a partition; headers carry the event type, the outbox id (consumers dedupe on it) and the trace id.
final class KafkaDestination: OutboxDestination {
    let name = "kafka"
    private let publisher: KafkaPublisher
    private let topicPrefix: String

    init(options: KafkaPublisher.Options, topicPrefix: String) throws(KafkaError) {
        publisher = try KafkaPublisher(options: options)
        self.topicPrefix = topicPrefix
    }

    func publish(_ batch: [OutboxMessage], budgetMs: Int, traceId: String) -> OutboxSendResult {
        let messages = batch.map { row in
            let (key, type) = Self.keyAndType(row)
            var headers = [KafkaHeader("event-type", type), KafkaHeader("outbox-id", String(row.id))]
            if !traceId.isEmpty { headers.append(KafkaHeader("trace-id", traceId)) }
            return KafkaMessage(topic: topicPrefix + row.queue, key: key, value: Array(row.payload.utf8), headers: headers)
        }
        let confirmed: Int
        let error: String
        do {
            confirmed = try publisher.publish(messages, timeoutMs: budgetMs)
            guard confirmed < batch.count else {
                return OutboxSendResult(confirmed: confirmed, error: nil, overtaken: publisher.lastOvertaken)
            }
            error = publisher.lastError ?? "not every message was acknowledged"
        } catch let failure {
            (confirmed, error) = (0, "\(failure)")
        }
        switch publisher.lastStop ?? .outage(.other) {
        case .message:
            return OutboxSendResult(confirmed: confirmed, error: error, refusedForGood: true, overtaken: publisher.lastOvertaken)
        case .outage(let why):
            return OutboxSendResult(confirmed: confirmed, error: error, outage: why.rawValue, overtaken: publisher.lastOvertaken)
        }
    }

    /// The partitioning key (`OutboxPartitionKey`) and event type of an outbox row.
    static func keyAndType(_ row: OutboxMessage) -> (key: String?, type: String) {
        guard let value = try? JSONValue.parse(Array(row.payload.utf8)) else { return (nil, row.queue) }
        func string(_ name: String) -> String? {
            if case .string(let s)? = value[name] { return s }
            return nil
        }
        let type = string("type") ?? string("op").map { "api-key." + $0 } ?? row.queue
        return (OutboxPartitionKey.of(queue: row.queue, payload: value), type)
    }
}

extension OutboxRelay {
    /// The destinations the environment configures: RabbitMQ with `RABBITMQ_URL`, Kafka with `KAFKA_BROKERS`.
    static func destinations(_ env: Environment) throws -> [OutboxDestination] {
        var all: [OutboxDestination] = []
        if let url = env["RABBITMQ_URL"], !url.isEmpty {
            all.append(
                RabbitMQDestination(
                    url: url, timeoutMs: try Self.milliseconds(env, "RABBITMQ_TIMEOUT_MS"),
                    caFile: CABundle.path(explicit: env["RABBITMQ_CA_FILE"])))
        }
        if let brokers = env["KAFKA_BROKERS"], !brokers.isEmpty {
            all.append(try kafkaDestination(env, brokers: brokers))
        }
        return all
    }

    static func milliseconds(_ env: Environment, _ name: String) throws -> Int {
        try Settings(env).milliseconds(name, default: 3000)
    }

    private static func kafkaDestination(_ env: Environment, brokers: String) throws -> KafkaDestination {
        let security = (env["KAFKA_SECURITY_PROTOCOL"] ?? "PLAINTEXT").uppercased()
        guard ["PLAINTEXT", "SSL", "SASL_SSL", "SASL_PLAINTEXT"].contains(security) else {
            throw ConfigError.invalid("KAFKA_SECURITY_PROTOCOL", why: "PLAINTEXT, SSL, SASL_SSL or SASL_PLAINTEXT")
        }
        var options = KafkaPublisher.Options(
            brokers: brokers, securityProtocol: security,
            timeoutMs: try milliseconds(env, "KAFKA_TIMEOUT_MS"))
        if security.hasPrefix("SASL") {
            let mechanism = (env["KAFKA_SASL_MECHANISM"] ?? "SCRAM-SHA-512").uppercased()
            guard ["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"].contains(mechanism) else {
                throw ConfigError.invalid("KAFKA_SASL_MECHANISM", why: "SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN")
            }
            guard let user = env["KAFKA_USERNAME"], let password = env["KAFKA_PASSWORD"] else {
                throw ConfigError.missing("KAFKA_USERNAME", hint: "\(security) needs KAFKA_USERNAME and KAFKA_PASSWORD")
            }
            options.saslMechanism = mechanism
            options.username = user
            options.password = password
        }
        if security.hasSuffix("SSL") {
            options.caFile = CABundle.path(explicit: env["KAFKA_CA_FILE"] ?? env["SSL_CERT_FILE"])
        }
        do {
            return try KafkaDestination(options: options, topicPrefix: env["KAFKA_TOPIC_PREFIX"] ?? "")
        } catch {
            throw ConfigError.invalid("KAFKA_BROKERS", why: "\(error)")
        }
    }
}
