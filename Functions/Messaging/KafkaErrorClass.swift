import CKafka

/// What a Kafka error means for the outbox row it stopped at, decided here and nowhere else.
///
/// `message`: the broker refuses that one message for what it is (too large, an invalid record, a policy on its
/// content); sending it again cannot succeed while other messages can, so its row is set aside and the rows behind
/// it go on. Everything else is an `outage`: the topic, the credentials, the cluster or the client cannot take
/// messages now, whichever message comes next, so every row stays pending, in order, until it is fixed. Unknown
/// codes are outages: a row is set aside only for an error known to be about that row.
public enum KafkaErrorClass: Equatable, Sendable {
    /// This message can never be taken; others can.
    case message
    /// No message can be taken now.
    case outage(KafkaOutage)

    /// The class of librdkafka's `rd_kafka_resp_err_t` `code` (a delivery report's or `rd_kafka_producev`'s).
    public static func of(_ code: Int32) -> KafkaErrorClass {
        if refusedMessages.contains(code) { return .message }
        return .outage(outages[code] ?? .other)
    }

    /// librdkafka's name of `code` (`TOPIC_AUTHORIZATION_FAILED`, `_MSG_TIMED_OUT`), for logs.
    public static func name(_ code: Int32) -> String { String(cString: rd_kafka_err2name(rd_kafka_resp_err_t(rawValue: code))) }

    /// Every code this librdkafka knows, with its name.
    public static var knownCodes: [(code: Int32, name: String)] {
        var descs: UnsafePointer<rd_kafka_err_desc>?
        var count = 0
        rd_kafka_get_err_descs(&descs, &count)
        guard let descs else { return [] }
        return (0..<count).compactMap { i in
            guard let name = descs[i].name else { return nil }
            return (descs[i].code.rawValue, String(cString: name))
        }
    }

    /// Refusals of one message for what it is: its size (client-side `message.max.bytes`, or the topic's
    /// `max.message.bytes`), a record the broker's validation refuses (a compacted topic's missing key), a policy.
    /// The producer confirms a size refusal on the message alone before it counts (a record batch holds several).
    private static let refusedMessages: Set<Int32> = codes(
        RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE, RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE,
        RD_KAFKA_RESP_ERR_INVALID_RECORD, RD_KAFKA_RESP_ERR_POLICY_VIOLATION)

    private static let outages: [Int32: KafkaOutage] = {
        var table: [Int32: KafkaOutage] = [:]
        let groups: [(KafkaOutage, Set<Int32>)] = [
            (
                .authorization,
                codes(
                    RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED,
                    RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED, RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
                    RD_KAFKA_RESP_ERR_DELEGATION_TOKEN_AUTHORIZATION_FAILED, RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED,
                    RD_KAFKA_RESP_ERR__AUTHENTICATION, RD_KAFKA_RESP_ERR_UNSUPPORTED_SASL_MECHANISM, RD_KAFKA_RESP_ERR_ILLEGAL_SASL_STATE)
            ),
            // 100 is UNKNOWN_TOPIC_ID, which librdkafka releases after 2.0 report.
            (
                .topic,
                codes(
                    RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC,
                    RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION
                ).union([100])
            ),
            (
                .unavailable,
                codes(
                    RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, RD_KAFKA_RESP_ERR__RESOLVE, RD_KAFKA_RESP_ERR__SSL,
                    RD_KAFKA_RESP_ERR__DESTROY, RD_KAFKA_RESP_ERR__QUEUE_FULL, RD_KAFKA_RESP_ERR__NODE_UPDATE, RD_KAFKA_RESP_ERR__UNKNOWN_BROKER,
                    RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION, RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE,
                    RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, RD_KAFKA_RESP_ERR_REPLICA_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
                    RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND, RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR,
                    RD_KAFKA_RESP_ERR_THROTTLING_QUOTA_EXCEEDED, RD_KAFKA_RESP_ERR_FENCED_LEADER_EPOCH, RD_KAFKA_RESP_ERR_UNKNOWN_LEADER_EPOCH,
                    RD_KAFKA_RESP_ERR_ELIGIBLE_LEADERS_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_PREFERRED_LEADER_NOT_AVAILABLE,
                    RD_KAFKA_RESP_ERR_OFFSET_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_REASSIGNMENT_IN_PROGRESS,
                    // CORRUPT_MESSAGE: a checksum that failed on the way; Kafka counts it retriable and librdkafka retries it.
                    RD_KAFKA_RESP_ERR_INVALID_MSG)
            ),
            (
                .timeout,
                codes(
                    RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, RD_KAFKA_RESP_ERR__TIMED_OUT, RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE,
                    RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR__PURGE_QUEUE, RD_KAFKA_RESP_ERR__PURGE_INFLIGHT)
            ),
            (
                .producer,
                codes(
                    RD_KAFKA_RESP_ERR__FATAL, RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, RD_KAFKA_RESP_ERR_DUPLICATE_SEQUENCE_NUMBER,
                    RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH, RD_KAFKA_RESP_ERR_UNKNOWN_PRODUCER_ID,
                    RD_KAFKA_RESP_ERR_INVALID_PRODUCER_ID_MAPPING, RD_KAFKA_RESP_ERR_PRODUCER_FENCED, RD_KAFKA_RESP_ERR__GAPLESS_GUARANTEE,
                    RD_KAFKA_RESP_ERR__INCONSISTENT, RD_KAFKA_RESP_ERR__STATE, RD_KAFKA_RESP_ERR__FENCED, RD_KAFKA_RESP_ERR__BAD_MSG,
                    RD_KAFKA_RESP_ERR__BAD_COMPRESSION, RD_KAFKA_RESP_ERR__INVALID_ARG, RD_KAFKA_RESP_ERR__FAIL,
                    RD_KAFKA_RESP_ERR__CRIT_SYS_RESOURCE, RD_KAFKA_RESP_ERR__RETRY)
            ),
            // INVALID_TIMESTAMP: the broker's window (`message.timestamp.difference.max.ms`) against this host's clock,
            // the same for every message sent now.
            (
                .configuration,
                codes(
                    RD_KAFKA_RESP_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT, RD_KAFKA_RESP_ERR_UNSUPPORTED_COMPRESSION_TYPE,
                    RD_KAFKA_RESP_ERR_INVALID_REQUIRED_ACKS, RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION, RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE,
                    RD_KAFKA_RESP_ERR_INVALID_TIMESTAMP, RD_KAFKA_RESP_ERR_LISTENER_NOT_FOUND, RD_KAFKA_RESP_ERR_SECURITY_DISABLED,
                    RD_KAFKA_RESP_ERR_INVALID_CONFIG, RD_KAFKA_RESP_ERR_INVALID_REQUEST, RD_KAFKA_RESP_ERR__NOT_CONFIGURED,
                    RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED)
            )
        ]
        for (outage, members) in groups { for code in members { table[code] = outage } }
        return table
    }()

    private static func codes(_ errors: rd_kafka_resp_err_t...) -> Set<Int32> { Set(errors.map(\.rawValue)) }
}
