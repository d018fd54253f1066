import JSON
import Store
import TestSupport
import XCTest

@testable import ClerkFunctions

/// `outbox requeue`'s options and the partition key it groups rows by.
final class OutboxRequeueInputTests: XCTestCase {
    func testSinceTakesADurationOrAnISO8601TimeWithItsOffset() throws {
        XCTAssertEqual(try OutboxRequeue.since("90s"), .secondsAgo(90))
        XCTAssertEqual(try OutboxRequeue.since("45m"), .secondsAgo(2700))
        XCTAssertEqual(try OutboxRequeue.since("2h"), .secondsAgo(7200))
        XCTAssertEqual(try OutboxRequeue.since("7d"), .secondsAgo(604_800))
        XCTAssertEqual(try OutboxRequeue.since("2w"), .secondsAgo(1_209_600))
        XCTAssertEqual(try OutboxRequeue.since("2025-06-01"), .time("2025-06-01T00:00:00Z"))
        XCTAssertEqual(try OutboxRequeue.since("2025-06-01T08:30:00Z"), .time("2025-06-01T08:30:00Z"))
        XCTAssertEqual(try OutboxRequeue.since("2024-02-29T08:30:00.123456+02:00"), .time("2024-02-29T08:30:00.123456+02:00"))
        XCTAssertEqual(try OutboxRequeue.since("2025-06-01T08:30-05:00"), .time("2025-06-01T08:30-05:00"))
        for bad in [
            "", "h", "0h", "-1h", "1.5h", "2h30m", "1y", "99999999999d", "100000000w", " 2h", "2h ", "2H",
            "2025-06-01T08:30:00", "2025-13-01", "2025-02-29", "2025-06-31", "2025-06-01T24:00Z", "2025-06-01T08:60Z",
            "2025-06-01T08:30:00+15:00", "2025-06-01T08:30:00Z trailing", "2025-06-01T08:30:00.Z", "yesterday",
            "2025-06-01T08:30:00+0200", "2025-6-1", "２０２５-06-01"
        ] {
            XCTAssertThrowsError(try OutboxRequeue.since(bad), bad) { XCTAssertTrue("\($0)".contains("--since"), "\($0)") }
        }
    }

    func testTopicIsAQueueOrItsKafkaTopic() throws {
        XCTAssertEqual(try OutboxRequeue.queue(topic: "prod.user-events", prefix: "prod."), "user-events")
        XCTAssertEqual(try OutboxRequeue.queue(topic: "user-events", prefix: "prod."), "user-events")
        XCTAssertEqual(try OutboxRequeue.queue(topic: "user-events", prefix: ""), "user-events")
        XCTAssertThrowsError(try OutboxRequeue.queue(topic: "", prefix: ""))
        XCTAssertThrowsError(try OutboxRequeue.queue(topic: "prod.", prefix: "prod."))
    }

    /// The SQL the requeue groups rows by and the key the Kafka destination sends agree, odd payloads included.
    func testThePartitionKeyIsTheSameInSQLAndInSwift() throws {
        let db = try TestDatabase.connect()
        let payloads: [(String, String)] = [
            ("user-events", #"{"clerkUserId":"user_1"}"#), ("user-events", #"{"clerkUserId":12}"#), ("user-events", #"{}"#),
            ("user-events", #"{"clerkUserId":null,"key":"k"}"#), ("user-events", #"{"clerkUserId":"ü\u00e9\"x"}"#),
            ("api-key-mappings", #"{"op":"set","key":"api_key:abc"}"#), ("api-key-mappings", #"{"key":["x"]}"#),
            ("organization-events", #"{"clerkOrgId":"org_1","clerkMembershipId":"mem_1"}"#),
            ("organization-events", #"{"clerkOrgId":null,"clerkMembershipId":"mem_1"}"#),
            ("organization-events", #"{"clerkOrgId":true}"#), ("organization-events", #"{"clerkMembershipId":"mem_2"}"#),
            ("other-queue", #"{"clerkUserId":"user_9","key":"k"}"#), ("user-events", #"[1,2]"#), ("user-events", #""text""#)
        ]
        for (queue, payload) in payloads {
            let row = try XCTUnwrap(
                db.query(
                    """
                    SELECT \(OutboxPartitionKey.sql("o")) AS key, o.payload::text AS payload FROM (SELECT $1::text AS queue, $2::jsonb AS payload) o
                    """, [queue, payload]
                ).first)
            let sql: String? = try row.decodeIfPresent("key")
            let swift = OutboxPartitionKey.of(queue: queue, payload: try JSONValue.parse(Array(try row.decode("payload", as: String.self).utf8)))
            XCTAssertEqual(sql, swift, "\(queue) \(payload)")
        }
    }
}
