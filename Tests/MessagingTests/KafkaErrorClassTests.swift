import Messaging
import XCTest

/// Which Kafka errors set an outbox row aside and which are outages, over every code librdkafka knows.
final class KafkaErrorClassTests: XCTestCase {
    func code(_ name: String) throws -> Int32 {
        try XCTUnwrap(KafkaErrorClass.knownCodes.first { $0.name == name }?.code, "librdkafka knows \(name)")
    }

    func testOnlyRefusalsOfOneMessageSetItAside() throws {
        let known = KafkaErrorClass.knownCodes
        XCTAssertGreaterThan(known.count, 100)
        let setAside = known.filter { KafkaErrorClass.of($0.code) == .message }.map(\.name).sorted()
        XCTAssertEqual(setAside, ["INVALID_MSG_SIZE", "INVALID_RECORD", "MSG_SIZE_TOO_LARGE", "POLICY_VIOLATION", "RECORD_LIST_TOO_LARGE"])
    }

    /// A missing ACL or a wrong topic is an outage: before, `TOPIC_AUTHORIZATION_FAILED` and `TOPIC_EXCEPTION` set
    /// rows aside.
    func testTopicsCredentialsAndTheClusterAreOutagesByReason() throws {
        let expected: [(String, KafkaOutage)] = [
            ("TOPIC_AUTHORIZATION_FAILED", .authorization), ("CLUSTER_AUTHORIZATION_FAILED", .authorization),
            ("TRANSACTIONAL_ID_AUTHORIZATION_FAILED", .authorization), ("SASL_AUTHENTICATION_FAILED", .authorization),
            ("_AUTHENTICATION", .authorization),
            ("TOPIC_EXCEPTION", .topic), ("UNKNOWN_TOPIC_OR_PART", .topic), ("_UNKNOWN_TOPIC", .topic), ("_UNKNOWN_PARTITION", .topic),
            ("_TRANSPORT", .unavailable), ("_ALL_BROKERS_DOWN", .unavailable), ("LEADER_NOT_AVAILABLE", .unavailable),
            ("NOT_ENOUGH_REPLICAS", .unavailable), ("INVALID_MSG", .unavailable), ("_QUEUE_FULL", .unavailable),
            ("_MSG_TIMED_OUT", .timeout), ("REQUEST_TIMED_OUT", .timeout), ("_PURGE_QUEUE", .timeout), ("_PURGE_INFLIGHT", .timeout),
            ("_FATAL", .producer), ("OUT_OF_ORDER_SEQUENCE_NUMBER", .producer), ("INVALID_PRODUCER_EPOCH", .producer),
            ("UNSUPPORTED_FOR_MESSAGE_FORMAT", .configuration), ("INVALID_TIMESTAMP", .configuration),
            ("INVALID_REQUIRED_ACKS", .configuration)
        ]
        for (name, outage) in expected {
            XCTAssertEqual(KafkaErrorClass.of(try code(name)), .outage(outage), name)
        }
    }

    /// A code no librdkafka names (a newer broker's) is an outage, never a reason to set a row aside.
    func testUnknownCodesAreOutages() {
        let known = Set(KafkaErrorClass.knownCodes.map(\.code))
        for code in Int32(-300)...Int32(400) where !known.contains(code) && code != 100 {
            XCTAssertEqual(KafkaErrorClass.of(code), .outage(.other), "\(code)")
        }
        XCTAssertEqual(KafkaErrorClass.of(100), .outage(.topic), "UNKNOWN_TOPIC_ID, from librdkafka 2.1")
        XCTAssertEqual(KafkaErrorClass.of(.min), .outage(.other))
        XCTAssertEqual(KafkaErrorClass.of(.max), .outage(.other))
    }
}
