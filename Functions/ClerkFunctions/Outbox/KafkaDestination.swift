import HTTPClient
import JSON
import LambdaRuntime
import Messaging
import Store

#if canImport(Glibc)
    import Glibc
#endif

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
