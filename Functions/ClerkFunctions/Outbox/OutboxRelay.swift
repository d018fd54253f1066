import JSON
import LambdaRuntime
import Messaging
import Store

/// Publishes outbox rows to every configured broker (RabbitMQ, Kafka, or both); a row is marked published
/// only after every destination confirmed it. Kept across warm invocations (one connection, one producer).
final class OutboxRelay: @unchecked Sendable {
    private let destinations: [OutboxDestination]
    let batchSize: Int

    /// Reads `RABBITMQ_URL` (`amqps://` for TLS, verified against `RABBITMQ_CA_FILE` or the system CA bundle),
    /// `KAFKA_*` and `OUTBOX_BATCH_SIZE`; nil when no broker is set (rows then wait for another relay).
    /// Throws a configuration error (an init error) for settings that cannot work.
    convenience init?(environment env: Environment) throws {
        let destinations = try Self.destinations(env)
        guard !destinations.isEmpty else { return nil }
        self.init(
            destinations: destinations,
            batchSize: try Settings(env).integer("OUTBOX_BATCH_SIZE", default: 500, in: 1...10_000, unit: "rows"))
    }

    /// Relays to `destinations` (recording ones in the unit tier), up to `batchSize` rows a batch.
    init(destinations: [OutboxDestination], batchSize: Int) {
        self.destinations = destinations
        self.batchSize = batchSize
    }

    /// `rabbitmq`, `kafka` or `rabbitmq+kafka`.
    var destinationNames: String { destinations.map(\.name).joined(separator: "+") }

    /// What `publishPending` did.
    struct Outcome {
        /// Messages every broker confirmed.
        var published = 0
        /// The broker error that stopped it, if any.
        var error: String?
        /// Another relay held the outbox: nothing was sent (one relay at a time keeps per-key order).
        var busy = false
        /// Rows a broker refused for good, set aside this time.
        var setAside = 0
        /// The broker and the reason (`authorization`, `topic`, `unavailable`…) when `error` is an outage.
        var outage: (destination: String, reason: String)?
    }

    /// Publishes batches until the outbox is empty, `maxBatches` is reached, time runs short, or another
    /// relay turns out to hold the outbox.
    func publishPending(_ connection: PostgresConnection, maxBatches: Int, context: Context) throws -> Outcome {
        try publishPending(PostgresOutboxRows(connection: connection), maxBatches: maxBatches, context: context)
    }

    /// `publishPending` over `outbox` (an in-memory one in the unit tier).
    func publishPending(_ outbox: some OutboxRows, maxBatches: Int, context: Context) throws -> Outcome {
        var outcome = Outcome()
        for _ in 0..<maxBatches {
            guard context.remainingTimeMs > 1500 else { break }
            var outage: (destination: String, reason: String)?
            let batch = try outbox.relay(limit: batchSize) { batch in
                // Each destination gets what every earlier one confirmed: a row counts once all have it.
                var confirmed = batch.count
                var failure: String?
                var refusedForGood = false
                var overtaken = Set<Int>()
                for destination in destinations where confirmed > 0 {
                    let budget = Int(max(100, min(context.remainingTimeMs - 1000, 60_000)))
                    let sent = destination.publish(Array(batch.prefix(confirmed)), budgetMs: budget, traceId: context.traceId)
                    if sent.confirmed < confirmed {
                        failure = "\(destination.name): \(sent.error ?? "not every message was confirmed")"
                        refusedForGood = sent.refusedForGood
                        outage = sent.refusedForGood ? nil : (destination.name, sent.outage ?? KafkaOutage.other.rawValue)
                    }
                    confirmed = min(confirmed, sent.confirmed)
                    overtaken.formUnion(sent.overtaken)
                }
                return OutboxSendResult(confirmed: confirmed, error: failure, refusedForGood: refusedForGood, overtaken: overtaken.sorted())
            }
            outcome.published += batch.published
            for row in batch.overtaken {
                // Sent now it would land after a later row of its key: kept for `outbox requeue`, the rows behind it go on.
                outcome.setAside += 1
                context.logger.error("outbox row set aside", ["outboxId": .int(row), "reason": .string("overtaken by a later row of its key")])
            }
            if let row = batch.setAside {
                // Refused for good: kept in the outbox for a person, and the rows behind it go on.
                outcome.setAside += 1
                context.logger.error("outbox row set aside", ["outboxId": .int(row), "reason": .string(batch.error ?? "refused")])
                continue
            }
            if batch.busy {
                outcome.busy = true
                break
            }
            if let error = batch.error {
                // An outage (a topic or an ACL included): every row stays pending, in order, for the next relay.
                outcome.error = error
                outcome.outage = outage ?? ("broker", KafkaOutage.other.rawValue)
                break
            }
            if batch.published + batch.overtaken.count < batchSize { break }
        }
        return outcome
    }
}
