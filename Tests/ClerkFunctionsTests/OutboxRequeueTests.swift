import ClerkFunctions
import JSON
import LambdaRuntime
import LocalHosting
@testable import Store
import TestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `clerk-functions outbox requeue`: set-aside rows go back once their cause is fixed, and each key's consumers
/// end in the key's last state, also when later rows of that key went out meanwhile, beside a running relay and
/// beside another requeue. Against a real Kafka-protocol broker where a broker is involved.
final class OutboxRequeueTests: XCTestCase {
    var prefix = ""
    var f: WebhookFixture!

    override func setUp() { prefix = "rq\(getpid())-\(Clock.monotonicNs())." }
    override func tearDown() { f = nil }

    func fixture(_ extra: [String: String] = [:]) throws -> WebhookFixture {
        var env = ["KAFKA_BROKERS": TestKafka.brokers, "KAFKA_TOPIC_PREFIX": prefix]
        for (k, v) in extra { env[k] = v }
        f = try WebhookFixture(extra: env)
        return f
    }

    /// `clerk-functions outbox requeue …` as an operator runs it.
    static func requeue(_ args: [String] = [], env: [String: String] = [:]) throws -> (code: Int32, out: String, err: String) {
        let r = try Subprocess.run(path: BuiltProducts.clerkFunctions, arguments: ["outbox", "requeue"] + args,
                                   environment: childEnvironment(["DATABASE_URL": TestDatabase.url].merging(env) { $1 }))
        return (r.exit.code, r.stdout.text, r.stderr.text)
    }

    func publish(_ f: WebhookFixture) throws -> JSONValue { try JSONValue.parse(f.harness.invoke("publishOutbox", event: Array("{}".utf8))) }

    /// Marks rows set aside as the relay did before topic and authorization errors counted as outages.
    func setAside(_ db: PostgresConnection, ids: [Int64], ago: String = "1 minute") throws {
        try db.query("""
            UPDATE outbox SET set_aside_at = now() - $2::interval, last_error = 'kafka: Broker: Topic authorization failed'
             WHERE id = ANY($1::bigint[])
            """, ["{" + ids.map(String.init).joined(separator: ",") + "}", ago])
    }

    func ids(_ db: PostgresConnection, where condition: String) throws -> [Int64] {
        try db.query("SELECT id FROM outbox WHERE \(condition) ORDER BY id").map { try $0.decode("id", as: Int64.self) }
    }

    /// Each row once (consumers dedupe on `outbox-id`), in the order the partition holds them.
    func deduped(_ records: [ConsumedRecord]) -> [ConsumedRecord] {
        var seen = Set<String>()
        return records.filter { seen.insert($0.headers["outbox-id"] ?? "").inserted }
    }

    /// Each key's last record, as a consumer applying them in order ends up: `op` (and `n` when there is one).
    func finalState(_ records: [ConsumedRecord]) -> [String: String] {
        var state: [String: String] = [:]
        for r in deduped(records) {
            let value = try? JSONValue.parse(Array(r.value.utf8))
            let n = value?["n"]?.doubleValue.map { "#\(Int($0))" } ?? ""
            state[r.key ?? "-"] = (value?["op"]?.stringValue ?? value?["type"]?.stringValue ?? "?") + n
        }
        return state
    }

    /// Rows set aside before this fix (an ACL was missing) are requeued once it is fixed: a key whose later row went
    /// out meanwhile gets that row again after the requeued one, so its consumers end in its last state; rows with no
    /// later published row of their key go back in place.
    func testRequeuedRowsGoOutAndEachKeyEndsInItsLastState() throws {
        let f = try fixture()
        try f.db.query("""
            INSERT INTO outbox (queue, payload) VALUES
              ('api-key-mappings', '{"op":"set","key":"api_key:a","value":"user_1"}'),
              ('api-key-mappings', '{"op":"set","key":"api_key:b","value":"user_2"}'),
              ('api-key-mappings', '{"op":"delete","key":"api_key:b"}'),
              ('api-key-mappings', '{"op":"delete","key":"api_key:a"}'),
              ('api-key-mappings', '{"op":"set","key":"api_key:c","value":"user_3"}'),
              ('user-events', '{"type":"user.updated","clerkUserId":"user_1","n":0}')
            """)
        let all = try ids(f.db, where: "true")
        // `set b` and `delete a` were set aside while `delete b` and `set a` went out: the gateway would keep
        // key a usable and never learn key b.
        try setAside(f.db, ids: [all[1], all[3], all[5]])
        XCTAssertEqual(try publish(f)["published"]?.doubleValue, 3)
        let r = try Self.requeue()
        XCTAssertEqual(r.code, 0, r.err)
        XCTAssertEqual(r.out.filter { $0 == "\n" }.count, 1, "one line")
        let summary = try JSONValue.parse(Array(r.out.utf8))
        XCTAssertEqual(summary["requeued"], .object(["api-key-mappings": .number(2), "user-events": .number(1)]), r.out)
        XCTAssertEqual(summary["resent"], .object(["api-key-mappings": .number(1)]), "delete b again, after set b")
        XCTAssertEqual(try OutboxStore(connection: f.db).setAsideCount(), 0)
        XCTAssertEqual(try ids(f.db, where: "published_at IS NULL").filter { $0 <= all[5] }, [all[3], all[5]],
                       "rows with no later published row of their key go back in place")
        XCTAssertEqual(try publish(f)["published"]?.doubleValue, 4)
        let keys = KafkaTestConsumer(topics: [prefix + "api-key-mappings"]).read(count: 6)
        XCTAssertEqual(finalState(keys), ["api_key:a": "delete", "api_key:b": "delete", "api_key:c": "set"])
        XCTAssertEqual(finalState(KafkaTestConsumer(topics: [prefix + "user-events"]).read(count: 1)), ["user_1": "user.updated#0"])
        XCTAssertEqual(try OutboxStore(connection: f.db).pendingCount(), 0)
    }

    /// A requeue waits for the relay batch that holds the outbox (it takes the relay's lock), so it sees what that
    /// batch published; a second requeue at the same time waits for the first and finds nothing left to do.
    func testRequeueWaitsForARunningRelayBatchAndASecondRequeueFindsNothingLeft() throws {
        f = try WebhookFixture()
        try f.db.query("""
            INSERT INTO outbox (queue, payload) VALUES
              ('api-key-mappings', '{"op":"set","key":"api_key:w","value":"user_w"}'),
              ('api-key-mappings', '{"op":"delete","key":"api_key:w"}')
            """)
        let rows = try ids(f.db, where: "true")
        try setAside(f.db, ids: [rows[0]])
        // A relay in the middle of a batch: it holds the lock and is sending `delete w`.
        let relay = try TestDatabase.connect()
        try relay.query("BEGIN")
        XCTAssertEqual(try relay.query("SELECT pg_try_advisory_xact_lock($1) AS got", [OutboxStore.relayLockKey]).first?
            .decode("got", as: Bool.self), true)
        let done = ConditionLock()
        nonisolated(unsafe) var results: [(code: Int32, out: String, err: String)] = []
        for _ in 0..<2 {
            Threads.detach {
                let r = (try? OutboxRequeueTests.requeue()) ?? (code: -1, out: "", err: "did not run")
                done.withLock { results.append(r) }
                done.broadcast()
            }
        }
        let waiting = { try self.f.db.query("SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
            .first?.decode("n", as: Int.self) ?? 0 }
        var polls = 0
        while try waiting() < 2 && polls < 3000 {
            polls += 1
            usleep(10_000)
        }
        XCTAssertEqual(try waiting(), 2, "both requeues wait for the relay's batch")
        try relay.query("UPDATE outbox SET published_at = now() WHERE id = $1", [rows[1]])
        try relay.query("COMMIT")
        XCTAssertTrue(done.wait(timeoutMs: 60_000) { results.count == 2 })
        for r in results { XCTAssertEqual(r.code, 0, r.err) }
        let summaries = try results.map { try JSONValue.parse(Array($0.out.utf8)) }
        XCTAssertEqual(summaries.compactMap { $0["requeued"]?["api-key-mappings"]?.doubleValue }, [1], "\(results.map(\.out))")
        XCTAssertEqual(summaries.compactMap { $0["resent"]?["api-key-mappings"]?.doubleValue }, [1], "\(results.map(\.out))")
        let pending = try f.db.query("SELECT payload->>'op' AS op FROM outbox WHERE published_at IS NULL ORDER BY id")
        XCTAssertEqual(try pending.map { try $0.decode("op", as: String.self) }, ["set", "delete"],
                       "the set, then the delete the relay published while the requeue waited")
        XCTAssertEqual(try f.count("outbox"), 3)
    }

    /// Relays and requeues in separate processes at once, against the broker: every key's consumers end in the key's
    /// last state, whatever the interleaving, and nothing stays set aside or pending.
    func testRequeuesBesideRunningRelaysLeaveEveryKeyInItsLastState() throws {
        let f = try fixture(["OUTBOX_BATCH_SIZE": "7"])
        let seed = UInt64(Clock.monotonicNs() % 1_000_000)
        var rng = SplitMix64(seed: seed)  // BackfillCursorTests' generator
        let keys = (0..<24).map { "api_key:r\($0)" }
        for n in 0..<6 {
            for k in keys {
                try f.db.query("""
                    INSERT INTO outbox (queue, payload) VALUES ('api-key-mappings',
                      jsonb_build_object('op', CASE WHEN $2::int % 2 = 0 THEN 'set' ELSE 'delete' END, 'key', $1::text, 'n', $2::int))
                    """, [k, n])
            }
        }
        let all = try ids(f.db, where: "true")
        try setAside(f.db, ids: all.filter { _ in rng.next() % 5 == 0 })
        let env = childEnvironment(["DATABASE_URL": TestDatabase.url, "KAFKA_BROKERS": TestKafka.brokers,
                                    "KAFKA_TOPIC_PREFIX": prefix, "OUTBOX_BATCH_SIZE": "7"])
        let done = ConditionLock()
        nonisolated(unsafe) var codes: [Int32] = []
        let commands = [["invoke", "publishOutbox", "--event", "-"], ["outbox", "requeue"], ["invoke", "publishOutbox", "--event", "-"],
                        ["outbox", "requeue"]]
        for args in commands {
            Threads.detach {
                let r = try? Subprocess.run(path: BuiltProducts.clerkFunctions, arguments: args, environment: env, stdinBytes: Array("{}".utf8))
                done.withLock { codes.append(r?.exit.code ?? -1) }
                done.broadcast()
            }
        }
        XCTAssertTrue(done.wait(timeoutMs: 120_000) { codes.count == commands.count }, "seed \(seed)")
        XCTAssertEqual(codes.sorted(), [0, 0, 0, 0], "seed \(seed)")
        XCTAssertEqual(try OutboxStore(connection: f.db).setAsideCount(), 0, "the first requeue took every set-aside row, seed \(seed)")
        var runs = 0
        while try OutboxStore(connection: f.db).pendingCount() > 0 && runs < 10 {
            runs += 1
            _ = try publish(f)
        }
        XCTAssertEqual(try OutboxStore(connection: f.db).pendingCount(), 0, "seed \(seed)")
        let published = try f.count("outbox")
        let records = KafkaTestConsumer(topics: [prefix + "api-key-mappings"]).read(count: published)
        XCTAssertEqual(Set(records.compactMap { $0.headers["outbox-id"] }).count, published, "every row reached Kafka, seed \(seed)")
        XCTAssertEqual(finalState(records), Dictionary(uniqueKeysWithValues: keys.map { ($0, "delete#5") }), "seed \(seed)")
    }
}
