import JSON
import LambdaRuntime
import Messaging
import Store

/// Publishes outbox rows to RabbitMQ: durable queues, persistent messages, publisher confirms; a row is
/// marked published only after the broker confirmed it. Kept across warm invocations (one connection).
final class OutboxRelay: @unchecked Sendable {
    private let publisher: AMQPPublisher
    let batchSize: Int

    /// Reads `RABBITMQ_URL` (nil when unset: rows then wait for another relay; `amqps://` for TLS, verified
    /// against `RABBITMQ_CA_FILE` or the system CA bundle) and `OUTBOX_BATCH_SIZE`.
    init?(environment env: Environment) {
        guard let url = env["RABBITMQ_URL"] else { return nil }
        let ca = env["RABBITMQ_CA_FILE"].flatMap { $0.isEmpty ? nil : $0 }
        publisher = AMQPPublisher(url: url, timeoutMs: Int(env["RABBITMQ_TIMEOUT_MS"] ?? "") ?? 3000, caFile: ca)
        batchSize = min(max(Int(env["OUTBOX_BATCH_SIZE"] ?? "") ?? 500, 1), 10_000)
    }

    /// What `publishPending` did.
    struct Outcome {
        /// Messages the broker confirmed.
        var published = 0
        /// The broker error that stopped it, if any.
        var error: String?
        /// Another relay held the outbox: nothing was sent (one relay at a time keeps per-key order).
        var busy = false
    }

    /// Publishes batches until the outbox is empty, `maxBatches` is reached, time runs short, or another
    /// relay turns out to hold the outbox.
    func publishPending(_ connection: PostgresConnection, maxBatches: Int, context: Context) throws -> Outcome {
        var outcome = Outcome()
        for _ in 0..<maxBatches {
            guard context.remainingTimeMs > 1500 else { break }
            let batch = try OutboxStore(connection: connection).relay(limit: batchSize) { batch in
                do {
                    let confirmed = try publisher.publish(batch.map { AMQPMessage(queue: $0.queue, body: Array($0.payload.utf8)) })
                    return (confirmed, confirmed < batch.count ? "not every message was confirmed" : nil)
                } catch {
                    return (0, "\(error)")
                }
            }
            outcome.published += batch.published
            if batch.busy {
                outcome.busy = true
                break
            }
            if let error = batch.error {
                outcome.error = error
                break
            }
            if batch.published < batchSize { break }
        }
        return outcome
    }
}

/// The broker could not take the outbox's messages; they stay pending, nothing is lost.
struct OutboxPublishError: LambdaReportableError {
    let reason: String
    let published: Int
    var errorType: String { "OutboxPublishError" }
    var errorMessage: String { "published \(published), then: \(reason); the rest stay in the outbox" }
}

/// `publishOutbox`: publishes pending outbox rows (scheduled every minute; any event triggers it).
struct PublishOutboxFunction: Handler {
    private let relay: OutboxRelay?
    private let database: DatabaseSession

    init(_ ctx: InitContext) throws {
        relay = OutboxRelay(environment: ctx.environment)
        database = try DatabaseSession(environment: ctx.environment, logger: ctx.logger)
        if relay == nil { ctx.logger.warn("RABBITMQ_URL is not set: outbox rows stay for another relay") }
    }

    func handle(_ event: [UInt8], context: Context) throws -> [UInt8] {
        let store = OutboxStore(connection: database.connection)
        guard let relay else {
            return Array(#"{"published":0,"pending":\#(try store.pendingCount()),"relay":"disabled"}"#.utf8)
        }
        let outcome = try relay.publishPending(database.connection, maxBatches: 1000, context: context)
        let pending = try store.pendingCount()
        if let error = outcome.error {
            context.logger.error("outbox publish stopped", ["reason": .string(error), "published": .int(Int64(outcome.published)),
                                                            "pending": .int(Int64(pending))])
            throw OutboxPublishError(reason: error, published: outcome.published)
        }
        if outcome.busy {
            // Not an error: the relay holding the outbox publishes these rows, in order.
            context.logger.info("outbox held by another relay", ["published": .int(Int64(outcome.published)), "pending": .int(Int64(pending))])
            return Array(#"{"published":\#(outcome.published),"pending":\#(pending),"relay":"busy"}"#.utf8)
        }
        context.logger.info("outbox published", ["published": .int(Int64(outcome.published)), "pending": .int(Int64(pending))])
        return Array(#"{"published":\#(outcome.published),"pending":\#(pending)}"#.utf8)
    }
}

extension Functions {
    /// `publishOutbox`: the outbox relay (scheduled).
    public static let publishOutbox = LambdaFunction(
        name: "publishOutbox", summary: "Publishes pending outbox rows to RabbitMQ with publisher confirms (scheduled).",
        accepts: ["EventBridge Scheduled Event", "any JSON"]
    ) { try PublishOutboxFunction($0) }
}
