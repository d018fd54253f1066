import HTTPClient
import JSON
import LambdaRuntime
import Messaging
import Store

#if canImport(Glibc)
    import Glibc
#endif

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
