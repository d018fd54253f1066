/// Why Kafka could not take messages now: a closed set, for log lines and the `OutboxBrokerUnavailable` metric.
public enum KafkaOutage: String, Sendable, CaseIterable {
    /// Credentials refused, or no ACL for the topic, the cluster or the producer id.
    case authorization
    /// The topic does not exist or its name is refused (a wrong `KAFKA_TOPIC_PREFIX`, a topic not created).
    case topic
    /// Brokers unreachable, leaders moving, too few in-sync replicas, a broker's disk, a quota.
    case unavailable
    /// Nothing answered in time (the batch's budget or librdkafka's message timeout).
    case timeout
    /// The idempotent producer's own state (sequence numbers, epochs): a new producer starts over.
    case producer
    /// The cluster and the client disagree on a setting (message format, compression, acks, timestamps).
    case configuration
    /// Anything else.
    case other
}
