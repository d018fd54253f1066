import ClerkKit
import JSON
import LambdaRuntime
import Store

/// A transient failure somewhere in an Amazon MQ batch: the whole batch goes back to the queue (the MQ
/// trigger has no partial-batch response), and deduplication by delivery id makes the redelivered good
/// messages harmless.
struct QueueBatchRetry: LambdaReportableError {
    let failed: Int
    var errorType: String { "QueueBatchRetry" }
    var errorMessage: String { "\(failed) message(s) hit a retryable failure; the batch will be redelivered" }
}

/// What became of one queued message.
enum QueueDisposition: Sendable {
    /// Applied, ignored, or recorded as rejected: acknowledged.
    case done
    /// A retry may help: the message goes back.
    case retry
    /// Never going to apply: set aside (SQS: its dead-letter queue; Amazon MQ: `queue_rejects`).
    case setAside(reason: String)
}

/// SQS's partial-batch answer.
struct SQSBatchAnswer: Encodable {
    struct Item: Encodable { var itemIdentifier: String }
    var batchItemFailures: [Item]
}

/// Amazon MQ's answer: nothing goes back, with what the batch came to.
struct MQBatchAnswer: Encodable {
    var batchItemFailures: [SQSBatchAnswer.Item] = []
    var applied: Int
    var rejected: Int
}

extension WebhookFunction {
    /// Applies every message of `batch` through the handler; answers SQS with the messages to send back, and
    /// Amazon MQ (which has no partial answer) by failing the whole batch when one needs a retry.
    func receive(_ batch: QueueBatch, context: Context) throws -> [UInt8] {
        var outcomes: [(QueueBatch.Message, QueueDisposition)] = []
        for message in batch.messages {
            let log = context.logger.with("messageId", .string(message.id)).with("source", .string(batch.source.rawValue))
            outcomes.append((message, disposition(of: message, source: batch.source, context: context, log: log)))
        }
        let applied = outcomes.filter { if case .done = $0.1 { true } else { false } }.count
        let setAside = outcomes.filter { if case .setAside = $0.1 { true } else { false } }
        switch batch.source {
        case .rabbitmq: return try answerMQ(outcomes, applied: applied, setAside: setAside, context: context)
        case .sqs, .webhook:
            count(applied: applied, rejected: setAside.count, retried: outcomes.count - applied - setAside.count, batch.source, context)
            // Every failed message goes back; SQS's redrive policy moves a hopeless one to its dead-letter queue.
            let items = outcomes.filter { if case .done = $0.1 { false } else { true } }.map { SQSBatchAnswer.Item(itemIdentifier: $0.0.id) }
            return try JSONCoding.encoder.encode(SQSBatchAnswer(batchItemFailures: items))
        }
    }

    private func disposition(of message: QueueBatch.Message, source: DeliverySource, context: Context, log: Logger) -> QueueDisposition {
        switch gate.admit(message, source: source) {
        case .failure(let refusal):
            log.warn("queued event rejected", ["reason": .string(refusal.reason)])
            return .setAside(reason: refusal.reason)
        case .success(let delivery):
            let outcome = handler.deliver(delivery, context: context, logger: log.with("svixId", .string(delivery.id)))
            switch outcome {
            case .applied, .ignored, .rejected: return .done  // a rejected delivery is recorded; a redelivery is a duplicate
            case .failed(_, let failure): return failure.code.isRetryable ? .retry : .setAside(reason: failure.code.rawValue)
            }
        }
    }

    /// Amazon MQ: refusals are kept in `queue_rejects` (not lost); a retry sends the whole batch back.
    private func answerMQ(
        _ outcomes: [(QueueBatch.Message, QueueDisposition)], applied: Int,
        setAside: [(QueueBatch.Message, QueueDisposition)], context: Context
    ) throws -> [UInt8] {
        let retried = outcomes.count - applied - setAside.count
        var kept = 0
        for case (let message, .setAside(let reason)) in setAside {
            do {
                try handler.store.keepRefused(source: .rabbitmq, messageId: message.id, reason: reason, body: message.body)
                kept += 1
            } catch {
                // Not kept: send it back rather than lose it (the queue's own dead-lettering takes over).
                context.logger.warn("queued event could not be kept", ["messageId": .string(message.id), "sqlState": .string(error.sqlState)])
                count(applied: applied, rejected: kept, retried: outcomes.count - applied - kept, .rabbitmq, context)
                throw QueueBatchRetry(failed: outcomes.count - applied)
            }
        }
        count(applied: applied, rejected: kept, retried: retried, .rabbitmq, context)
        if retried > 0 { throw QueueBatchRetry(failed: retried) }
        return try JSONCoding.encoder.encode(MQBatchAnswer(applied: applied, rejected: outcomes.count - applied))
    }

    /// Per message, as this invocation decided it: an alarm on Rejected finds messages set aside for a person
    /// (SQS: on their way to the dead-letter queue), one on Retried a broker redelivering in a loop. A refusal
    /// Amazon MQ could not keep goes back with its batch, so it counts as retried.
    private func count(applied: Int, rejected: Int, retried: Int, _ source: DeliverySource, _ context: Context) {
        context.metrics.emit(
            [
                ("QueueApplied", Double(applied), .count), ("QueueRejected", Double(rejected), .count),
                ("QueueRetried", Double(retried), .count)
            ], dimensions: [("source", source.rawValue)])
    }
}
