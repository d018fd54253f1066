import JSON
import LambdaRuntime
import Messaging
import Store

/// `publishOutbox`: publishes pending outbox rows (scheduled every minute; any event triggers it).
struct PublishOutboxFunction: Handler {
    private let relay: OutboxRelay?
    private let outbox: any OutboxRows

    init(_ ctx: InitContext) throws {
        let relay = try OutboxRelay(environment: ctx.environment)
        let database = try DatabaseSession(environment: ctx.environment, logger: ctx.logger)
        if relay == nil { ctx.logger.warn("neither RABBITMQ_URL nor KAFKA_BROKERS is set: outbox rows stay for another relay") }
        self.init(relay: relay, outbox: PostgresOutboxRows(connection: database.connection))
    }

    /// Relays `outbox` through `relay`; nil reports the outbox without publishing (no broker configured).
    init(relay: OutboxRelay?, outbox: any OutboxRows) {
        self.relay = relay
        self.outbox = outbox
    }

    func handle(_ event: [UInt8], context: Context) throws -> [UInt8] {
        guard let relay else {
            return try JSONCoding.encoder.encode(PublishAnswer(published: 0, pending: try outbox.pendingCount(), relay: "disabled"))
        }
        let outcome = try relay.publishPending(outbox, maxBatches: 1000, context: context)
        let pending = try outbox.pendingCount()
        context.metrics.emit([
            ("OutboxPublished", Double(outcome.published), .count), ("OutboxPending", Double(pending), .count),
            ("OutboxSetAside", Double(outcome.setAside), .count)
        ])
        if let error = outcome.error {
            let (destination, cause) = outcome.outage ?? ("broker", KafkaOutage.other.rawValue)
            // Counted by broker and reason (a closed set), so an alarm tells a missing ACL from a cluster that is down.
            context.metrics.count("OutboxBrokerUnavailable", dimensions: [("destination", destination), ("reason", cause)])
            context.logger.error(
                "outbox publish stopped",
                [
                    "reason": .string(error), "cause": .string(cause),
                    "published": .int(Int64(outcome.published)), "pending": .int(Int64(pending))
                ])
            throw OutboxPublishError(reason: error, cause: cause, published: outcome.published)
        }
        if outcome.busy {
            // Not an error: the relay holding the outbox publishes these rows, in order.
            context.logger.info("outbox held by another relay", ["published": .int(Int64(outcome.published)), "pending": .int(Int64(pending))])
            return try JSONCoding.encoder.encode(PublishAnswer(published: outcome.published, pending: pending, relay: "busy"))
        }
        context.logger.info(
            "outbox published",
            [
                "published": .int(Int64(outcome.published)), "pending": .int(Int64(pending)),
                "destinations": .string(relay.destinationNames)
            ])
        return try JSONCoding.encoder.encode(
            PublishAnswer(
                published: outcome.published, pending: pending,
                setAside: outcome.setAside > 0 ? outcome.setAside : nil,
                destinations: relay.destinationNames))
    }
}

/// `publishOutbox`'s answer: `{"published","pending","setAside"?,"relay"?|"destinations"?}`.
struct PublishAnswer: Encodable {
    var published: Int
    var pending: Int
    var setAside: Int?
    /// `disabled` (no broker configured) or `busy` (another relay holds the outbox).
    var relay: String?
    /// `rabbitmq`, `kafka` or `rabbitmq+kafka`.
    var destinations: String?
}

extension Functions {
    /// `publishOutbox`: the outbox relay (scheduled).
    public static let publishOutbox = LambdaFunction(
        name: "publishOutbox", summary: "Publishes pending outbox rows to RabbitMQ (publisher confirms) and/or Kafka (acks=all) (scheduled).",
        accepts: ["EventBridge Scheduled Event", "any JSON"]
    ) { try PublishOutboxFunction($0) }
}
