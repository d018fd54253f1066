import ClerkFunctions
import JSON
import LambdaRuntime
import LocalHosting
import TestSupport
import XCTest

@testable import Store

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
        let r = try Subprocess.run(
            path: BuiltProducts.clerkFunctions, arguments: ["outbox", "requeue"] + args,
            environment: childEnvironment(["DATABASE_URL": TestDatabase.url].merging(env) { $1 }))
        return (r.exit.code, r.stdout.text, r.stderr.text)
    }

    func publish(_ f: WebhookFixture) throws -> JSONValue { try JSONValue.parse(f.harness.invoke("publishOutbox", event: Array("{}".utf8))) }

    /// Marks rows set aside as the relay did before topic and authorization errors counted as outages.
    func setAside(_ db: PostgresConnection, ids: [Int64], ago: String = "1 minute") throws {
        try db.query(
            """
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
        try f.db.query(
            """
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
        XCTAssertEqual(
            try ids(f.db, where: "published_at IS NULL").filter { $0 <= all[5] }, [all[3], all[5]],
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
        try f.db.query(
            """
            INSERT INTO outbox (queue, payload) VALUES
              ('api-key-mappings', '{"op":"set","key":"api_key:w","value":"user_w"}'),
              ('api-key-mappings', '{"op":"delete","key":"api_key:w"}')
            """)
        let rows = try ids(f.db, where: "true")
        try setAside(f.db, ids: [rows[0]])
        // A relay in the middle of a batch: it holds the lock and is sending `delete w`.
        let relay = try TestDatabase.connect()
        try relay.query("BEGIN")
        XCTAssertEqual(
            try relay.query("SELECT pg_try_advisory_xact_lock($1) AS got", [OutboxStore.relayLockKey]).first?
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
        let waiting = {
            try self.f.db.query("SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
                .first?.decode("n", as: Int.self) ?? 0
        }
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
        XCTAssertEqual(
            try pending.map { try $0.decode("op", as: String.self) }, ["set", "delete"],
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
                try f.db.query(
                    """
                    INSERT INTO outbox (queue, payload) VALUES ('api-key-mappings',
                      jsonb_build_object('op', CASE WHEN $2::int % 2 = 0 THEN 'set' ELSE 'delete' END, 'key', $1::text, 'n', $2::int))
                    """, [k, n])
            }
        }
        let all = try ids(f.db, where: "true")
        try setAside(f.db, ids: all.filter { _ in rng.next() % 5 == 0 })
        let env = childEnvironment([
            "DATABASE_URL": TestDatabase.url, "KAFKA_BROKERS": TestKafka.brokers,
            "KAFKA_TOPIC_PREFIX": prefix, "OUTBOX_BATCH_SIZE": "7"
        ])
        let done = ConditionLock()
        nonisolated(unsafe) var codes: [Int32] = []
        let commands = [
            ["invoke", "publishOutbox", "--event", "-"], ["outbox", "requeue"], ["invoke", "publishOutbox", "--event", "-"],
            ["outbox", "requeue"]
        ]
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

    /// Counts, per transaction, the statements that write `outbox` (a statement trigger), so a test can tell a
    /// requeue that runs a few statements from one that runs one per row, without timing anything.
    func countOutboxStatements(_ db: PostgresConnection) throws {
        try db.query("CREATE TABLE IF NOT EXISTS outbox_statements (tx bigint NOT NULL)")
        try db.query("TRUNCATE outbox_statements")
        try db.query(
            """
            CREATE OR REPLACE FUNCTION outbox_statement_counted() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN INSERT INTO outbox_statements VALUES (txid_current()); RETURN NULL; END $$
            """)
        try db.query("DROP TRIGGER IF EXISTS outbox_statement_counted ON outbox")
        try db.query(
            """
            CREATE TRIGGER outbox_statement_counted AFTER INSERT OR UPDATE ON outbox
              FOR EACH STATEMENT EXECUTE FUNCTION outbox_statement_counted()
            """)
    }

    func stopCountingOutboxStatements(_ db: PostgresConnection) throws {
        try db.query("DROP TRIGGER IF EXISTS outbox_statement_counted ON outbox")
        try db.query("DROP TABLE IF EXISTS outbox_statements")
    }

    /// The most statements writing `outbox` that one transaction ran since `countOutboxStatements`.
    func mostOutboxStatementsInOneTransaction(_ db: PostgresConnection) throws -> Int {
        try XCTUnwrap(
            db.query("SELECT COALESCE(max(n), 0)::int AS n FROM (SELECT count(*) AS n FROM outbox_statements GROUP BY tx) t")
                .first
        ).decode("n", as: Int.self)
    }

    /// A requeue over 20,000 later published rows of one key moves them in a few statements, whatever their number,
    /// so the table is locked against writers (webhooks writing their outbox rows) only that long; before, it ran one
    /// statement per row under the lock (4 s for 20,000 rows, past the webhooks' 10 s timeout at 50,000). Rows a
    /// writer adds meanwhile, of that key too, keep their order after the requeued ones: nothing lost, nothing twice.
    func testARequeueOverManyLaterRowsOfAKeyRunsAFewStatementsBesideWriters() throws {
        f = try WebhookFixture()
        let db = f.db
        try countOutboxStatements(db)
        defer { try? stopCountingOutboxStatements(db) }
        let later = 20_000
        @Sendable func user(_ who: String, _ n: String) -> String {
            "jsonb_build_object('type', 'user.updated', 'clerkUserId', '\(who)', 'changed', jsonb_build_object('n', \(n)), 'n', \(n))"
        }
        // A row of each user, then later rows of the same user published meanwhile; user_small's row is set aside.
        try db.query(
            "INSERT INTO outbox (queue, payload) VALUES ('user-events', \(user("user_small", "0"))), ('user-events', \(user("user_big", "0")))")
        try setAside(db, ids: try ids(db, where: "payload->>'clerkUserId' = 'user_small'"))
        try db.query("INSERT INTO outbox (queue, payload, published_at) VALUES ('user-events', \(user("user_small", "1")), now())")
        try db.query(
            """
            INSERT INTO outbox (queue, payload, published_at)
            SELECT 'user-events', \(user("user_big", "g")), now() FROM generate_series(1, $1::int) g ORDER BY g
            """, [later])
        func sequence(_ who: String, _ condition: String) throws -> [Int] {
            try db.query("SELECT (payload->>'n')::int AS n FROM outbox WHERE payload->>'clerkUserId' = $1 AND \(condition) ORDER BY id", [who])
                .map { try $0.decode("n", as: Int.self) }
        }
        XCTAssertEqual(try sequence("user_big", "published_at IS NOT NULL"), Array(1...later), "set up in order")

        var started = Clock.monotonicNs()
        let small = try Self.requeue(["--topic", "user-events", "--since", "1h"])
        let smallMs = (Clock.monotonicNs() - started) / 1_000_000
        XCTAssertEqual(small.code, 0, small.err)
        try db.query("UPDATE outbox SET published_at = now() WHERE payload->>'clerkUserId' = 'user_small'")
        try db.query(
            "UPDATE outbox SET set_aside_at = now(), published_at = NULL WHERE id = $1",
            [try XCTUnwrap(ids(db, where: "payload->>'clerkUserId' = 'user_big'").first)])
        try db.query("TRUNCATE outbox_statements")

        // A writer beside the requeue: its own session, a row per transaction, alternately of the requeued user.
        let lock = ConditionLock()
        nonisolated(unsafe) var written: [(who: String, waitedMs: UInt64)] = []
        nonisolated(unsafe) var stop = false
        nonisolated(unsafe) var writerError: String?
        nonisolated(unsafe) var finished = false
        Threads.detach {
            defer {
                lock.withLock { finished = true }
                lock.broadcast()
            }
            do {
                let writer = try TestDatabase.connect()
                var n = 0
                while !lock.withLock({ stop }) {
                    n += 1
                    let who = n % 2 == 0 ? "user_big" : "user_other"
                    let start = Clock.monotonicNs()
                    try writer.query("INSERT INTO outbox (queue, payload) VALUES ('user-events', \(user(who, "$1::int")))", [later + n])
                    let waited = (Clock.monotonicNs() - start) / 1_000_000
                    lock.withLock { written.append((who, waited)) }
                    lock.broadcast()
                }
            } catch {
                lock.withLock {
                    writerError = "\(error)"
                    stop = true
                }
                lock.broadcast()
            }
        }
        XCTAssertTrue(lock.wait(timeoutMs: 30_000) { written.count >= 4 || writerError != nil })
        started = Clock.monotonicNs()
        let big = try Self.requeue(["--topic", "user-events"])
        let bigMs = (Clock.monotonicNs() - started) / 1_000_000
        let before = lock.withLock { written.count }
        XCTAssertTrue(lock.wait(timeoutMs: 30_000) { written.count >= before + 4 || writerError != nil })
        lock.withLock { stop = true }
        XCTAssertTrue(lock.wait(timeoutMs: 30_000) { finished })
        let rows = lock.withLock { written }
        XCTAssertNil(lock.withLock { writerError })

        XCTAssertEqual(big.code, 0, big.err)
        let summary = try JSONValue.parse(Array(big.out.utf8))
        XCTAssertEqual(summary["requeued"], .object(["user-events": .number(1)]), big.out)
        XCTAssertEqual(summary["resent"], .object(["user-events": .number(Double(later))]), "user events keep their whole history")
        let statements = try mostOutboxStatementsInOneTransaction(db)
        print(
            "requeue of 1 later row: \(smallMs) ms; of \(later) later rows: \(bigMs) ms in \(statements) statement(s) writing outbox; "
                + "\(rows.count) rows written beside it, the longest waited \(rows.map(\.waitedMs).max() ?? 0) ms")
        XCTAssertLessThanOrEqual(statements, 4, "a few statements, not one per row")
        let writtenBig = rows.enumerated().filter { $0.element.who == "user_big" }.map { later + $0.offset + 1 }
        XCTAssertEqual(
            try sequence("user_big", "published_at IS NULL"), [0] + Array(1...later) + writtenBig,
            "the requeued row, its later rows again, then the rows written meanwhile: each once, in order")
        XCTAssertEqual(try sequence("user_big", "published_at IS NOT NULL"), Array(1...later), "the published rows stay as they were")
        XCTAssertEqual(try OutboxStore(connection: db).setAsideCount(), 0)
    }

    /// Only what consumers need goes out again. An API key's mapping rows each carry the key's whole state (`set` to a
    /// user, or `delete`), so only its last published row is written again after the requeued one. User events carry
    /// only the fields that `changed`, and organization events are about the organization's several memberships, so
    /// every later published row of theirs is written again, in order: a consumer folding them ends where it should.
    func testRequeueResendsAKeysLastMappingButEveryLaterEvent() throws {
        let f = try fixture()
        try f.db.query(
            """
            INSERT INTO outbox (queue, payload) VALUES
              ('api-key-mappings', '{"op":"set","key":"api_key:e","value":"user_e","n":0}'),
              ('user-events', '{"type":"user.updated","clerkUserId":"user_e","changed":{"first_name":"A"},"n":0}'),
              ('organization-events', '{"type":"organizationMembership.created","clerkOrgId":"org_e","clerkMembershipId":"m1","n":0}'),
              ('api-key-mappings', '{"op":"delete","key":"api_key:e","n":1}'),
              ('user-events', '{"type":"user.updated","clerkUserId":"user_e","changed":{"first_name":"B"},"n":1}'),
              ('organization-events', '{"type":"organizationMembership.created","clerkOrgId":"org_e","clerkMembershipId":"m2","n":1}'),
              ('api-key-mappings', '{"op":"set","key":"api_key:e","value":"user_e","n":2}'),
              ('user-events', '{"type":"user.updated","clerkUserId":"user_e","changed":{"last_name":"C"},"n":2}'),
              ('organization-events', '{"type":"organizationMembership.deleted","clerkOrgId":"org_e","clerkMembershipId":"m1","n":2}'),
              ('api-key-mappings', '{"op":"delete","key":"api_key:e","n":3}')
            """)
        let all = try ids(f.db, where: "true")
        try setAside(f.db, ids: Array(all.prefix(3)))
        XCTAssertEqual(try publish(f)["published"]?.doubleValue, 7)
        let r = try Self.requeue()
        XCTAssertEqual(r.code, 0, r.err)
        let summary = try JSONValue.parse(Array(r.out.utf8))
        XCTAssertEqual(
            summary["resent"],
            .object([
                "api-key-mappings": .number(1), "user-events": .number(2),
                "organization-events": .number(2)
            ]), r.out)
        let pending = try f.db.query("SELECT queue, (payload->>'n')::int AS n FROM outbox WHERE published_at IS NULL ORDER BY id")
        var byQueue: [String: [Int]] = [:]
        for row in pending { byQueue[try row.decode("queue", as: String.self), default: []].append(try row.decode("n", as: Int.self)) }
        XCTAssertEqual(byQueue, ["api-key-mappings": [0, 3], "user-events": [0, 1, 2], "organization-events": [0, 1, 2]])
        XCTAssertEqual(try publish(f)["published"]?.doubleValue, 8)

        XCTAssertEqual(finalState(KafkaTestConsumer(topics: [prefix + "api-key-mappings"]).read(count: 5)), ["api_key:e": "delete#3"])
        var user: [String: JSONValue] = [:]
        for record in deduped(KafkaTestConsumer(topics: [prefix + "user-events"]).read(count: 5)) {
            guard case .object(let changed)? = try JSONValue.parse(Array(record.value.utf8))["changed"] else { continue }
            for (name, value) in changed { user[name] = value }
        }
        XCTAssertEqual(user, ["first_name": .string("B"), "last_name": .string("C")], "every change, in order")
        var members = Set<String>()
        for record in deduped(KafkaTestConsumer(topics: [prefix + "organization-events"]).read(count: 5)) {
            let event = try JSONValue.parse(Array(record.value.utf8))
            let member = try XCTUnwrap(event["clerkMembershipId"]?.stringValue)
            if event["type"]?.stringValue == "organizationMembership.deleted" { members.remove(member) } else { members.insert(member) }
        }
        XCTAssertEqual(members, ["m2"], "every membership's last event, in order")
    }
}
