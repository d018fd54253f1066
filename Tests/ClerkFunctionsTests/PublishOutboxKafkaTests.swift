import ClerkFunctions
import JSON
import LambdaRuntime
import LocalHosting
import Messaging
import Store
import TestSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// `publishOutbox` to Kafka, against a real Kafka-protocol broker: keyed, with headers, in per-key order, rows
/// published only after the delivery report, nothing lost while the broker is away, both brokers at once.
final class PublishOutboxKafkaTests: XCTestCase {
    /// Each test its own topic prefix, so tests never read each other's records.
    var prefix = ""

    override func setUp() { prefix = "t\(getpid())-\(Clock.monotonicNs())." }

    func fixture(_ extra: [String: String] = [:]) throws -> WebhookFixture {
        var env = ["KAFKA_BROKERS": TestKafka.brokers, "KAFKA_TOPIC_PREFIX": prefix]
        for (k, v) in extra { env[k] = v }
        return try WebhookFixture(extra: env)
    }

    func publish(_ f: WebhookFixture) throws -> JSONValue {
        try JSONValue.parse(f.harness.invoke("publishOutbox", event: Array("{}".utf8)))
    }

    func pending(_ f: WebhookFixture) throws -> Int { try OutboxStore(connection: f.db).pendingCount() }

    /// Rows for `users` interleaved, `perUser` each, payloads carrying a sequence number per user.
    func insertInterleaved(_ f: WebhookFixture, users: [String], perUser: Int) throws {
        for n in 0..<perUser {
            for u in users {
                try f.db.query(
                    """
                    INSERT INTO outbox (queue, payload) VALUES ('user-events',
                      jsonb_build_object('type', 'user.updated', 'clerkUserId', $1::text, 'n', $2::int))
                    """, [u, n])
            }
        }
    }

    /// The relay of another deployment on the same database (the same outbox, other Kafka settings).
    func redeployed(_ extra: [String: String]) -> LocalHarness {
        var env = ["DATABASE_URL": TestDatabase.url, "KAFKA_BROKERS": TestKafka.brokers, "KAFKA_TOPIC_PREFIX": prefix]
        for (k, v) in extra { env[k] = v }
        return LocalHarness(registry: Functions.registry, environment: Environment(env), logger: Logger(level: .error, format: .json, fd: 2))
    }

    /// Each outbox row once, as consumers see them: they dedupe on the `outbox-id` header, keeping the first.
    func deduped(_ records: [ConsumedRecord]) -> [ConsumedRecord] {
        var seen = Set<String>()
        return records.filter { seen.insert($0.headers["outbox-id"] ?? "").inserted }
    }

    /// `key/event-type` of each record, for order assertions.
    func keyed(_ records: [ConsumedRecord]) -> [String] { records.map { "\($0.key ?? "-")/\($0.headers["event-type"] ?? "-")" } }

    func testWebhookEventsReachKafkaKeyedByUserWithHeaders() throws {
        let f = try fixture()
        _ = try f.invoke("onUserCreated", f.signed(f.userBody(type: "user.created", id: "user_k1", updatedAt: 1)))
        _ = try f.invoke("onUserUpdated", f.signed(f.userBody(id: "user_k1", updatedAt: 2, firstName: "Second")))
        _ = try publish(f)
        XCTAssertEqual(try pending(f), 0)
        let records = KafkaTestConsumer(topics: [prefix + "user-events"]).read(count: 2)
        XCTAssertEqual(records.count, 2, "each event once")
        XCTAssertEqual(records.map(\.key), ["user_k1", "user_k1"], "keyed by the Clerk user id")
        XCTAssertEqual(records.map { $0.headers["event-type"] }, ["user.created", "user.updated"])
        let ids = try f.db.query("SELECT id FROM outbox ORDER BY id").map { String(try $0.decode("id", as: Int64.self)) }
        XCTAssertEqual(records.map { $0.headers["outbox-id"] }, ids.map { Optional($0) })
        XCTAssertNotNil(records.first?.headers["trace-id"])
        XCTAssertEqual(
            try JSONValue.parse(Array(records[1].value.utf8))["changed"], .object(["first_name": .string("Second")]),
            "the same JSON as on RabbitMQ")
    }

    func testOrganizationEventsAndKeyMappingsAreKeyedByWhatTheyAreAbout() throws {
        let f = try fixture()
        try f.db.query(
            """
            INSERT INTO outbox (queue, payload) VALUES
              ('organization-events', '{"type":"organizationMembership.created","clerkOrgId":"org_k","membershipId":"m1"}'),
              ('api-key-mappings', '{"op":"set","key":"api_key:abc","value":"user_k"}'),
              ('api-key-mappings', '{"op":"delete","key":"api_key:abc"}')
            """)
        XCTAssertEqual(try publish(f)["published"]?.doubleValue, 3)
        let orgs = KafkaTestConsumer(topics: [prefix + "organization-events"]).read(count: 1)
        XCTAssertEqual(orgs.map(\.key), ["org_k"])
        XCTAssertEqual(orgs.first?.headers["event-type"], "organizationMembership.created")
        let keys = KafkaTestConsumer(topics: [prefix + "api-key-mappings"]).read(count: 2)
        XCTAssertEqual(keys.map(\.key), ["api_key:abc", "api_key:abc"], "a key's set and delete share a partition")
        XCTAssertEqual(keys.map { $0.headers["event-type"] }, ["api-key.set", "api-key.delete"], "in order")
    }

    /// A message Kafka refuses for good (over its size limit) is set aside, kept with its reason, and does not
    /// hold back the rows behind it; retrying it could never succeed.
    func testARowRefusedForGoodIsSetAsideAndTheRestGoOn() throws {
        let f = try fixture()
        try f.db.query(
            """
            INSERT INTO outbox (queue, payload) VALUES
              ('user-events', '{"type":"user.updated","clerkUserId":"user_before"}'),
              ('user-events', jsonb_build_object('type', 'user.updated', 'clerkUserId', 'user_big', 'pad', repeat('x', 1200000))),
              ('user-events', '{"type":"user.updated","clerkUserId":"user_after"}')
            """)
        let out = try publish(f)
        XCTAssertEqual(out["published"]?.doubleValue, 2, out.serialized())
        XCTAssertEqual(out["setAside"]?.doubleValue, 1)
        XCTAssertEqual(try pending(f), 0, "nothing waits behind the refused row")
        let kept = try XCTUnwrap(
            f.db.query(
                """
                SELECT payload->>'clerkUserId' AS who, last_error FROM outbox WHERE set_aside_at IS NOT NULL
                """
            ).first)
        XCTAssertEqual(try kept.decode("who", as: String.self), "user_big")
        XCTAssertTrue(try kept.decode("last_error", as: String.self).lowercased().contains("too large"))
        XCTAssertEqual(try OutboxStore(connection: f.db).setAsideCount(), 1)
        XCTAssertTrue(f.logs.contains("outbox row set aside"), f.logs)
        let records = KafkaTestConsumer(topics: [prefix + "user-events"]).read(count: 2)
        XCTAssertEqual(records.map(\.key), ["user_before", "user_after"])
    }

    /// The broker refuses a whole record batch as too large (the topic's `max.message.bytes`) when one of its
    /// messages is: only that message is set aside, and every other row goes out, in order. Before, the first row of
    /// the refused batch was set aside, whatever its size, one innocent row per relay batch.
    func testATooLargeRowIsSetAsideAloneWhenTheBrokerRefusedTheBatchItWasIn() throws {
        try TestKafka.createTopic(prefix + "user-events", config: ["max.message.bytes": "4000"])
        let f = try fixture()
        try insertInterleaved(f, users: ["user_a"], perUser: 5)
        try f.db.query(
            """
            INSERT INTO outbox (queue, payload) VALUES
              ('user-events', jsonb_build_object('type', 'user.updated', 'clerkUserId', 'user_big', 'pad', repeat('x', 6000)))
            """)
        for n in 5..<10 {
            try f.db.query(
                """
                INSERT INTO outbox (queue, payload) VALUES ('user-events',
                  jsonb_build_object('type', 'user.updated', 'clerkUserId', 'user_a', 'n', $1::int))
                """, [n])
        }
        let out = try publish(f)
        XCTAssertEqual(out["published"]?.doubleValue, 10, out.serialized())
        XCTAssertEqual(out["setAside"]?.doubleValue, 1, out.serialized())
        let kept = try f.db.query("SELECT payload->>'clerkUserId' AS who, last_error FROM outbox WHERE set_aside_at IS NOT NULL")
        XCTAssertEqual(try kept.map { try $0.decode("who", as: String.self) }, ["user_big"], "only the row that is too large")
        XCTAssertTrue(try XCTUnwrap(kept.first).decode("last_error", as: String.self).lowercased().contains("too large"))
        let records = KafkaTestConsumer(topics: [prefix + "user-events"]).read(count: 10)
        let seq = try numbers(records)
        XCTAssertEqual(seq, (0..<10).map(Double.init), "every other row, once, in order")
    }

    /// Rows that each fit the topic's `max.message.bytes` but not together in one record batch are sent one at a
    /// time, never set aside: the batch, not a row, was too large.
    func testRowsThatFitAloneAreNeverSetAsideWhenTheirBatchIsTooLargeForTheTopic() throws {
        try TestKafka.createTopic(prefix + "user-events", config: ["max.message.bytes": "1500"])
        let f = try fixture()
        try insertInterleaved(f, users: ["user_s1", "user_s2"], perUser: 10)
        let out = try publish(f)
        XCTAssertEqual(out["published"]?.doubleValue, 20, out.serialized())
        XCTAssertNil(out["setAside"], out.serialized())
        XCTAssertEqual(try OutboxStore(connection: f.db).setAsideCount(), 0)
        let records = KafkaTestConsumer(topics: [prefix + "user-events"]).read(count: 20)
        for u in ["user_s1", "user_s2"] {
            let seq = try numbers(records.filter { $0.key == u })
            XCTAssertEqual(seq, (0..<10).map(Double.init), "\(u)'s events, once, in order")
        }
    }

    /// The broker refuses a record batch as too large for the topic while the partition's next record batch, holding
    /// a later row of one of its keys (`delete K` after `set K`), goes out in the same attempt. Sending the refused
    /// batch's rows again one at a time would put `set K` after `delete K`, and consumers deduping on `outbox-id` drop
    /// the `delete K` sent again: the gateway would keep a revoked key. `set K` is set aside instead (`outbox requeue`
    /// puts it back in order), and each key's consumers end in its last state.
    func testARowIsNeverSentAgainPastALaterRowOfItsKeyThatWentOutFirst() throws {
        try TestKafka.createTopic(prefix + "api-key-mappings", config: ["max.message.bytes": "600000"])
        let f = try fixture()
        // librdkafka closes a record batch at 1 MB (batch.size): the three sets of 330 kB make the first batch, over
        // the topic's limit together though each fits alone; `set n` (50 kB) no longer fits it and opens the second,
        // which `delete k` joins, under the limit.
        try f.db.query(
            """
            INSERT INTO outbox (queue, payload) VALUES
              ('api-key-mappings', jsonb_build_object('op', 'set', 'key', 'api_key:k', 'value', 'user_k', 'pad', repeat('k', 330000))),
              ('api-key-mappings', jsonb_build_object('op', 'set', 'key', 'api_key:l', 'value', 'user_l', 'pad', repeat('l', 330000))),
              ('api-key-mappings', jsonb_build_object('op', 'set', 'key', 'api_key:m', 'value', 'user_m', 'pad', repeat('m', 330000))),
              ('api-key-mappings', jsonb_build_object('op', 'set', 'key', 'api_key:n', 'value', 'user_n', 'pad', repeat('n', 50000))),
              ('api-key-mappings', '{"op":"delete","key":"api_key:k"}')
            """)
        let out = try publish(f)
        let firstDeliveries = KafkaTestConsumer(topics: [prefix + "api-key-mappings"]).read(count: 4)
        let records = deduped(firstDeliveries)
        XCTAssertEqual(keyed(firstDeliveries), keyed(records), "a row the refused attempt delivered anyway is not sent again")
        var final: [String: String] = [:]
        for r in records { final[r.key ?? "-"] = r.headers["event-type"] ?? "-" }
        print("first deliveries: \(keyed(records)); publishOutbox: \(out.serialized())")
        XCTAssertEqual(final["api_key:k"], "api-key.delete", "the revoked key ends deleted: \(keyed(records))")
        XCTAssertEqual(
            final,
            [
                "api_key:k": "api-key.delete", "api_key:l": "api-key.set", "api_key:m": "api-key.set",
                "api_key:n": "api-key.set"
            ], keyed(records).joined(separator: ", "))
        XCTAssertEqual(out["setAside"]?.doubleValue, 1, out.serialized())
        XCTAssertEqual(try pending(f), 0, out.serialized())
        let aside = try f.db.query("SELECT payload->>'key' AS key, last_error FROM outbox WHERE set_aside_at IS NOT NULL ORDER BY id")
        XCTAssertEqual(try aside.map { try $0.decode("key", as: String.self) }, ["api_key:k"], "only the row a later row of its key overtook")
        XCTAssertTrue(try XCTUnwrap(aside.first).decode("last_error", as: String.self).contains("later row of its key"))
        XCTAssertTrue(f.logs.contains("outbox row set aside"), f.logs)

        // Requeued, `set k` goes out again followed by `delete k` written again: the key still ends deleted.
        let requeue = try OutboxRequeueTests.requeue(env: ["KAFKA_TOPIC_PREFIX": prefix])
        XCTAssertEqual(requeue.code, 0, requeue.err)
        XCTAssertEqual(try JSONValue.parse(Array(requeue.out.utf8))["resent"], .object(["api-key-mappings": .number(1)]), requeue.out)
        XCTAssertEqual(try publish(f)["published"]?.doubleValue, 2)
        let all = deduped(KafkaTestConsumer(topics: [prefix + "api-key-mappings"]).read(count: 6))
        XCTAssertEqual(keyed(all.filter { $0.key == "api_key:k" }), ["api_key:k/api-key.delete", "api_key:k/api-key.set", "api_key:k/api-key.delete"])
    }

    /// A missing MSK ACL on one topic is an outage, not a reason to set rows aside: every row stays pending, in
    /// order, each relay reports it and counts it (`OutboxBrokerUnavailable`, reason `authorization`); once the ACL
    /// is fixed the rows go out in order. Before, the topic's rows were set aside one per batch and nothing put
    /// them back: an API key's `delete` set aside while its `set` went out left the key usable at the gateway.
    func testAMissingTopicACLKeepsEveryRowPendingInOrderUntilItIsFixed() throws {
        let proxy = try KafkaACLProxy(target: TestKafka.brokers)
        proxy.deny([prefix + "api-key-mappings"])
        let f = try fixture(["KAFKA_BROKERS": proxy.brokers, "KAFKA_TIMEOUT_MS": "2000", "OUTBOX_BATCH_SIZE": "3"])
        try f.db.query(
            """
            INSERT INTO outbox (queue, payload) VALUES
              ('user-events', '{"type":"user.updated","clerkUserId":"user_1","n":0}'),
              ('api-key-mappings', '{"op":"set","key":"api_key:a","value":"user_1"}'),
              ('api-key-mappings', '{"op":"set","key":"api_key:b","value":"user_2"}'),
              ('user-events', '{"type":"user.updated","clerkUserId":"user_1","n":1}'),
              ('api-key-mappings', '{"op":"delete","key":"api_key:a"}'),
              ('api-key-mappings', '{"op":"delete","key":"api_key:b"}'),
              ('user-events', '{"type":"user.updated","clerkUserId":"user_1","n":2}')
            """)
        var metrics: [JSONValue] = []
        for run in 0..<3 {
            metrics += try captureMetrics(function: "publishOutbox") {
                XCTAssertThrowsError(try publish(f), "run \(run)") { error in
                    XCTAssertTrue("\(error)".contains("authorization"), "\(error)")
                }
            }
        }
        XCTAssertEqual(try OutboxStore(connection: f.db).setAsideCount(), 0, "nothing set aside")
        XCTAssertEqual(try pending(f), 6, "the row before the refused topic went out; every other row waits")
        XCTAssertFalse(f.logs.contains("outbox row set aside"), f.logs)
        XCTAssertTrue(f.logs.contains("\"cause\":\"authorization\""), f.logs)
        let outages = metrics.filter { $0["OutboxBrokerUnavailable"] != nil }
        XCTAssertEqual(outages.count, 3, "counted on each run")
        XCTAssertEqual(outages.first?["reason"]?.stringValue, "authorization")
        XCTAssertEqual(outages.first?["destination"]?.stringValue, "kafka")
        proxy.allowAll()
        var attempts = 0
        while try pending(f) > 0 && attempts < 5 {
            attempts += 1
            _ = try? publish(f)
        }
        XCTAssertEqual(try pending(f), 0, "published after \(attempts) relay(s) once the ACL was fixed")
        XCTAssertEqual(
            keyed(deduped(KafkaTestConsumer(topics: [prefix + "api-key-mappings"]).read(count: 4))),
            ["api_key:a/api-key.set", "api_key:b/api-key.set", "api_key:a/api-key.delete", "api_key:b/api-key.delete"])
        let users = deduped(KafkaTestConsumer(topics: [prefix + "user-events"]).read(count: 3))
        XCTAssertEqual(try numbers(users), [0, 1, 2])
        XCTAssertEqual(proxy.unreadable, 0, "the proxy read every Metadata answer")
    }

    /// A topic name the cluster refuses (a wrong `KAFKA_TOPIC_PREFIX`: `TOPIC_EXCEPTION`) is an outage too; the
    /// deployment with the right prefix publishes every row, once, in order.
    func testATopicNameTheClusterRefusesKeepsEveryRowPendingUntilThePrefixIsFixed() throws {
        let f = try fixture(["KAFKA_TOPIC_PREFIX": "not a topic!", "KAFKA_TIMEOUT_MS": "2000", "OUTBOX_BATCH_SIZE": "4"])
        try insertInterleaved(f, users: ["user_t1", "user_t2"], perUser: 3)
        var metrics: [JSONValue] = []
        for _ in 0..<2 {
            metrics += try captureMetrics(function: "publishOutbox") { XCTAssertThrowsError(try publish(f)) }
        }
        XCTAssertEqual(try OutboxStore(connection: f.db).setAsideCount(), 0, "nothing set aside")
        XCTAssertEqual(try pending(f), 6)
        XCTAssertEqual(metrics.filter { $0["OutboxBrokerUnavailable"] != nil }.map { $0["reason"]?.stringValue }, ["topic", "topic"])
        let out = try JSONValue.parse(redeployed([:]).invoke("publishOutbox", event: Array("{}".utf8)))
        XCTAssertEqual(out["published"]?.doubleValue, 6, out.serialized())
        let records = KafkaTestConsumer(topics: [prefix + "user-events"]).read(count: 6)
        XCTAssertEqual(records.count, 6, "each row once")
        for u in ["user_t1", "user_t2"] {
            let seq = try numbers(records.filter { $0.key == u })
            XCTAssertEqual(seq, [0, 1, 2], "\(u)'s events in order")
        }
    }

    func testPerKeyOrderAcrossBatches() throws {
        let f = try fixture(["OUTBOX_BATCH_SIZE": "7"])
        let users = ["user_a", "user_b", "user_c"]
        try insertInterleaved(f, users: users, perUser: 20)
        XCTAssertEqual(try publish(f)["published"]?.doubleValue, 60)
        let records = KafkaTestConsumer(topics: [prefix + "user-events"]).read(count: 60)
        XCTAssertEqual(records.count, 60)
        for u in users {
            let seq = try numbers(records.filter { $0.key == u })
            XCTAssertEqual(seq, (0..<20).map(Double.init), "\(u)'s events in order")
        }
    }

    func testABrokerThatIsAwayLeavesRowsPendingThenPublishesThemOnce() throws {
        let f = try fixture(["KAFKA_TIMEOUT_MS": "1000"])
        try insertInterleaved(f, users: ["user_x"], perUser: 5)
        XCTAssertEqual(try publish(f)["published"]?.doubleValue, 5)
        try TestKafka.control("pause")
        var resumed = false
        defer { if !resumed { try? TestKafka.control("resume") } }
        try insertInterleaved(f, users: ["user_x"], perUser: 5)
        let started = Clock.monotonicNs()
        XCTAssertThrowsError(try publish(f)) { error in
            XCTAssertTrue("\(error)".contains("kafka"), "\(error)")
        }
        let tookMs = (Clock.monotonicNs() - started) / 1_000_000
        XCTAssertLessThan(tookMs, 10_000, "within the invocation's deadline, not librdkafka's defaults")
        XCTAssertEqual(try pending(f), 5, "nothing lost while the broker is away")
        try TestKafka.control("resume")
        resumed = true
        // The same warm producer reconnects by itself; a relay that runs while it is still reconnecting
        // leaves the rows for the next one (the schedule's next minute), as during the outage.
        var attempts = 0
        while try pending(f) > 0 && attempts < 5 {
            attempts += 1
            _ = try? publish(f)
        }
        XCTAssertEqual(try pending(f), 0, "published after \(attempts) relay(s)")
        let records = KafkaTestConsumer(topics: [prefix + "user-events"]).read(count: 10)
        let ids = records.compactMap { $0.headers["outbox-id"] }
        XCTAssertEqual(ids.count, 10)
        XCTAssertEqual(Set(ids).count, 10, "each row once")
    }

    func testBothBrokersAtOnce() throws {
        let f = try fixture(["RABBITMQ_URL": TestBroker.url])
        let rabbit = AMQPPublisher(url: TestBroker.url)
        while try rabbit.get("user-events") != nil {}
        try insertInterleaved(f, users: ["user_both"], perUser: 3)
        let out = try publish(f)
        XCTAssertEqual(out["published"]?.doubleValue, 3)
        XCTAssertEqual(out["destinations"]?.stringValue, "rabbitmq+kafka")
        var fromRabbit = 0
        while try rabbit.get("user-events") != nil { fromRabbit += 1 }
        XCTAssertEqual(fromRabbit, 3)
        XCTAssertEqual(KafkaTestConsumer(topics: [prefix + "user-events"]).read(count: 3).count, 3)
    }

    func testARowWaitsUntilEveryBrokerHasIt() throws {
        // RabbitMQ unreachable (a closed port), Kafka up: nothing is marked published.
        let f = try fixture(["RABBITMQ_URL": "amqp://guest:guest@127.0.0.1:1/", "RABBITMQ_TIMEOUT_MS": "300"])
        try insertInterleaved(f, users: ["user_half"], perUser: 2)
        XCTAssertThrowsError(try publish(f))
        XCTAssertEqual(try pending(f), 2)
    }

    func testAFailedAuthenticationIsNamedAndRowsStayPending() throws {
        // The test broker speaks SASL but not SCRAM: the handshake fails as a wrong password does on MSK.
        let password = "not-the-password-\(getpid())"
        let f = try fixture([
            "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
            "KAFKA_USERNAME": "relay", "KAFKA_PASSWORD": password, "KAFKA_TIMEOUT_MS": "1000"
        ])
        try insertInterleaved(f, users: ["user_auth"], perUser: 2)
        XCTAssertThrowsError(try publish(f)) { error in
            XCTAssertTrue("\(error)".contains("SASL authentication"), "\(error)")
            XCTAssertFalse("\(error)".contains(password))
        }
        XCTAssertEqual(try pending(f), 2)
        XCTAssertFalse(f.logs.contains(password), "the password is never logged")
    }

    func testSettingsThatCannotWorkAreInitErrors() throws {
        for (extra, variable) in [
            (["KAFKA_SECURITY_PROTOCOL": "TLS"], "KAFKA_SECURITY_PROTOCOL"),
            (["KAFKA_SECURITY_PROTOCOL": "SASL_SSL"], "KAFKA_USERNAME"),
            (
                [
                    "KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISM": "GSSAPI",
                    "KAFKA_USERNAME": "u", "KAFKA_PASSWORD": "p"
                ], "KAFKA_SASL_MECHANISM"
            ),
            (["KAFKA_TIMEOUT_MS": "0"], "KAFKA_TIMEOUT_MS")
        ] {
            let f = try fixture(extra)
            XCTAssertThrowsError(try publish(f)) { error in
                XCTAssertTrue("\(error)".contains(variable), "\(extra): \(error)")
            }
        }
    }

    /// Two relays in two processes at once, held together at the outbox: the test locks the table against every
    /// read, so the relay that took the relay lock waits at its first read of rows while the other, finding the
    /// lock taken, waits at its count of what is pending; both go once both wait. One relay at a time: one
    /// publishes every row, the other answers busy and sends nothing, and each user's rows reach Kafka once, in
    /// order. Without the relay lock both read the same rows and sent them twice, in two interleaved streams.
    func testTwoRelayProcessesAtOnce() throws {
        let f = try fixture(["OUTBOX_BATCH_SIZE": "25"])
        let users = (0..<4).map { "user_p\($0)" }
        try insertInterleaved(f, users: users, perUser: 100)
        let env = childEnvironment([
            "DATABASE_URL": TestDatabase.url, "KAFKA_BROKERS": TestKafka.brokers,
            "KAFKA_TOPIC_PREFIX": prefix, "OUTBOX_BATCH_SIZE": "25"
        ])
        let answers = try relaysHeldTogether(2, db: f.db) { ChildProcess(invoke: "publishOutbox", event: Array("{}".utf8), environment: env) }
        let published = answers.filter { $0["relay"] == nil }
        XCTAssertEqual(published.count, 1, "one relay publishes: \(answers)")
        XCTAssertEqual(published.first, .object(["published": .number(400), "pending": .number(0), "destinations": .string("kafka")]), "\(answers)")
        let busy = answers.filter { $0["relay"]?.stringValue == "busy" }
        XCTAssertEqual(busy.count, 1, "the other finds the outbox held: \(answers)")
        XCTAssertEqual(busy.first?["published"]?.doubleValue, 0, "one relay at a time: \(answers)")
        XCTAssertEqual(try pending(f), 0)
        let records = KafkaTestConsumer(topics: [prefix + "user-events"]).read(count: 400)
        XCTAssertEqual(records.count, 400, "every row once")
        XCTAssertEqual(Set(records.compactMap { $0.headers["outbox-id"] }).count, 400, "every row once")
        for u in users {
            XCTAssertEqual(try numbers(records.filter { $0.key == u }), (0..<100).map(Double.init), "\(u)'s events in order")
        }
    }

    /// `n` of each record's JSON, every record read strictly (one that does not parse fails the test).
    func numbers(_ records: [ConsumedRecord], file: StaticString = #filePath, line: UInt = #line) throws -> [Double] {
        try records.map { try XCTUnwrap(JSONValue.parse(Array($0.value.utf8))["n"]?.doubleValue, $0.value, file: file, line: line) }
    }
}
