import FoundationEssentials
import JSON
import LocalHosting
import Store
import StoreTestSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

final class PostgresConnectionTests: XCTestCase {
    var db: PostgresConnection!

    // XCTest keeps every test case alive until the run ends: release its connections and servers now.
    override func tearDown() { db = nil }

    override func setUpWithError() throws {
        db = try TestDatabase.connect()
        try TestDatabase.reset(db)
    }

    func testMigrationsAreIdempotent() throws {
        XCTAssertEqual(try Migrator.migrate(db), [], "a migrated database gets nothing new")
        XCTAssertEqual(try Migrator.appliedVersions(db), Schema.migrations.map(\.version))
        let second = try PostgresConnection(url: TestDatabase.url)
        XCTAssertEqual(try Migrator.migrate(second), [])
    }

    func testMigrationsApplyInOrderToAnEmptySchema() throws {
        try db.query("DROP SCHEMA IF EXISTS migrate_test CASCADE")
        try db.query("CREATE SCHEMA migrate_test")
        defer { _ = try? db.query("DROP SCHEMA migrate_test CASCADE") }
        let c = try PostgresConnection(url: TestDatabase.url)
        try c.query("SET search_path TO migrate_test")
        XCTAssertEqual(try Migrator.migrate(c), Schema.migrations.map(\.version))
        let tables = try c.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'migrate_test' ORDER BY 1")
            .map { try $0.decode("table_name", as: String.self) }
        XCTAssertEqual(
            tables,
            [
                "api_keys", "backfill_runs", "backfill_seen", "billing_payment_attempts", "billing_subscription_items",
                "billing_subscriptions", "organization_memberships", "organizations", "outbox",
                "queue_rejects", "schema_migrations", "subscriptions", "usage_metrics", "users", "webhook_deliveries"
            ])
        XCTAssertEqual(try Migrator.migrate(c), [])
    }

    /// Cold starts migrate at once: each migration is applied once, by one of them, and none fails. The test holds
    /// `schema_migrations` so that both migrators are inside `migrate` before either reads what is applied.
    func testTwoMigratorsAtOnceApplyEachMigrationOnce() throws {
        try db.query("DROP SCHEMA IF EXISTS migrate_race CASCADE")
        try db.query("CREATE SCHEMA migrate_race")
        defer { _ = try? db.query("DROP SCHEMA migrate_race CASCADE") }
        try db.query(
            "CREATE TABLE migrate_race.schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        let holder = try PostgresConnection(url: TestDatabase.url)
        try holder.query("BEGIN")
        try holder.query("LOCK TABLE migrate_race.schema_migrations IN ACCESS EXCLUSIVE MODE")
        defer { _ = try? holder.query("ROLLBACK") }  // a test that throws early must not leave the lock held
        let done = ConditionLock()
        final class Box: @unchecked Sendable {
            var applied: [[Int]] = []
            var errors: [String] = []
        }
        let box = Box()
        for _ in 0..<2 {
            Threads.detach {
                do {
                    let c = try PostgresConnection(url: TestDatabase.url)
                    try c.query("SET search_path TO migrate_race")
                    let applied = try Migrator.migrate(c)
                    done.withLock { box.applied.append(applied) }
                } catch {
                    done.withLock { box.errors.append("\(error)") }
                }
                done.broadcast()
            }
        }
        var waiting = 0
        for _ in 0..<600 where waiting < 2 {
            waiting = try holder.query("SELECT count(*) AS n FROM pg_locks WHERE NOT granted").first?.decode("n", as: Int.self) ?? 0
            if waiting < 2 { usleep(50_000) }
        }
        XCTAssertEqual(waiting, 2, "both migrators are inside migrate")
        try holder.query("COMMIT")
        XCTAssertTrue(done.wait(timeoutMs: 60_000) { box.applied.count + box.errors.count == 2 })
        XCTAssertEqual(box.errors, [])
        XCTAssertEqual(box.applied.flatMap { $0 }.sorted(), Schema.migrations.map(\.version), "each migration applied once")
    }

    func testParametersAndTypedDecoding() throws {
        let id = PostgresUUID.random()
        let row = try XCTUnwrap(
            db.query(
                "SELECT $1::int AS i, $2::bigint AS b, $3::bool AS t, $4::text AS s, $5::text AS n, $6::uuid AS u, $7::float8 AS d",
                [42, Int64(1) << 40, true, "héllo 'quoted'", nil, id, 2.5]
            ).first)
        XCTAssertEqual(try row.decode("i", as: Int.self), 42)
        XCTAssertEqual(try row.decode("b", as: Int64.self), 1 << 40)
        XCTAssertEqual(try row.decode("t", as: Bool.self), true)
        XCTAssertEqual(try row.decode("s", as: String.self), "héllo 'quoted'")
        XCTAssertNil(try row.decodeIfPresent("n", as: String.self))
        XCTAssertEqual(try row.decode("u", as: PostgresUUID.self), id)
        XCTAssertEqual(try row.decode("d", as: Double.self), 2.5)
        XCTAssertThrowsError(try row.decode("s", as: Int.self)) { error in
            guard case PostgresError.decoding(column: "s", _) = error else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try row.decode("n", as: String.self))
    }

    func testQueryErrorsAreTyped() throws {
        XCTAssertThrowsError(try db.query("SELECT * FROM no_such_table")) { error in
            guard case PostgresError.query(let state, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(state, "42P01")
            XCTAssertFalse((error as! PostgresError).isTransient)
        }
        try db.query("INSERT INTO users (clerk_user_id, environment) VALUES ('user_1', 'production')")
        XCTAssertThrowsError(try db.query("INSERT INTO users (clerk_user_id, environment) VALUES ('user_1', 'production')")) { error in
            XCTAssertEqual((error as? PostgresError)?.sqlState, "23505")
            XCTAssertEqual((error as? PostgresError)?.errorClass, "23")
        }
        XCTAssertEqual(try db.query("SELECT 1 AS one").first?.decode("one", as: Int.self), 1, "usable after an error")
    }

    func testATextParameterWithANULIsRefusedNotTruncated() throws {
        // libpq takes C strings: "a\0b" would silently become "a".
        XCTAssertThrowsError(try db.query("SELECT $1::text AS t", ["a\u{0}b"])) { error in
            XCTAssertEqual((error as? PostgresError)?.sqlState, "22021")
            XCTAssertEqual((error as? PostgresError)?.errorClass, "22", "a data error: permanent, not retried")
        }
        XCTAssertEqual(try db.query("SELECT $1::text AS t", ["ab"]).first?.decode("t", as: String.self), "ab", "the connection still works")
    }

    func testTransactionRollsBackOnError() throws {
        XCTAssertThrowsError(
            try db.transaction { c in
                try c.query("INSERT INTO users (clerk_user_id, environment) VALUES ('user_tx', 'production')")
                try c.query("INSERT INTO users (clerk_user_id, environment) VALUES ('user_tx', 'production')")
            })
        XCTAssertEqual(try db.query("SELECT count(*) AS n FROM users").first?.decode("n", as: Int.self), 0)
        try db.transaction { c in
            try c.query("INSERT INTO users (clerk_user_id, environment) VALUES ('user_tx', 'production')")
        }
        XCTAssertEqual(try db.query("SELECT count(*) AS n FROM users").first?.decode("n", as: Int.self), 1)
    }

    func testReconnectsAfterTheServerKilledTheConnection() throws {
        let pid = db.backendPID
        let admin = try PostgresConnection(url: TestDatabase.url)
        try admin.query("SELECT pg_terminate_backend($1)", [Int(pid)])
        XCTAssertEqual(try db.query("SELECT 7 AS v").first?.decode("v", as: Int.self), 7)
        XCTAssertNotEqual(db.backendPID, pid, "a new backend serves the reconnected session")
    }

    func testReconnectsAfterAServerRestart() throws {
        XCTAssertEqual(try db.query("SELECT 7 AS v").first?.decode("v", as: Int.self), 7)
        let pid = db.backendPID
        try TestDatabase.restartServer()
        XCTAssertEqual(try db.query("SELECT 8 AS v").first?.decode("v", as: Int.self), 8)
        XCTAssertNotEqual(db.backendPID, pid, "a new backend of the restarted server serves the session")
    }

    func testAConnectionThatCannotConnectFailsWithClass08() {
        XCTAssertThrowsError(try PostgresConnection(url: "postgresql://nobody@/x?host=/nonexistent-socket-dir", connectTimeoutSeconds: 1)) { error in
            XCTAssertEqual((error as? PostgresError)?.errorClass, "08")
            XCTAssertTrue((error as? PostgresError)?.isTransient ?? false)
        }
    }
}
