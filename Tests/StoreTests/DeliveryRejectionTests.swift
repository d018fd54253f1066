import Dispatch
import Store
import StoreTestSupport
import XCTest

/// `DeliveryRejection`: a refused message is kept once, and never merged with a different one; migration 12
/// collapses the copies an older version kept and nothing else.
final class DeliveryRejectionTests: XCTestCase {
    var db: PostgresConnection!

    override func setUpWithError() throws {
        db = try TestDatabase.connect()
        try TestDatabase.reset(db)
    }

    override func tearDown() { db = nil }

    /// `source|message_id|reason|body`, a body past 1 KiB as its length (a failure message stays readable).
    func rows(_ c: PostgresConnection) throws -> [String] {
        try c.query("SELECT source, message_id, reason, body FROM queue_rejects ORDER BY id").map {
            let body = try $0.decode("body", as: String.self)
            return [
                try $0.decode("source", as: String.self), try $0.decode("message_id", as: String.self),
                try $0.decode("reason", as: String.self), body.utf8.count > 1024 ? "\(body.utf8.count) bytes" : body
            ].joined(separator: "|")
        }
    }

    func testTheSameMessageIsKeptOnceAndADifferentOneIsNot() throws {
        let store = DeliveryRejection(connection: db)
        let big = Array(repeating: UInt8(ascii: "x"), count: 64 * 1024)  // past btree's entry limit: the key hashes it
        try store.keep(source: "rabbitmq", messageId: "m1", reason: "signature_mismatch", body: Array("{\"a\":1}".utf8))
        try store.keep(source: "rabbitmq", messageId: "m1", reason: "signature_mismatch", body: Array("{\"a\":1}".utf8))
        try store.keep(source: "rabbitmq", messageId: "m1", reason: "signature_mismatch", body: Array("{\"a\":2}".utf8))
        try store.keep(source: "rabbitmq", messageId: "m1", reason: "malformed_json", body: Array("{\"a\":1}".utf8))
        try store.keep(source: "rabbitmq", messageId: "m2", reason: "signature_mismatch", body: Array("{\"a\":1}".utf8))
        try store.keep(source: "rabbitmq", messageId: "big", reason: "malformed_json", body: big)
        try store.keep(source: "rabbitmq", messageId: "big", reason: "malformed_json", body: big)
        // NUL is removed before the key is taken: the same message with and without it is one message.
        try store.keep(source: "rabbitmq", messageId: "m3", reason: "signature_required", body: Array("a\u{0}b".utf8))
        try store.keep(source: "rabbitmq", messageId: "m3", reason: "signature_required", body: Array("ab".utf8))
        XCTAssertEqual(
            try rows(db),
            [
                "rabbitmq|m1|signature_mismatch|{\"a\":1}", "rabbitmq|m1|signature_mismatch|{\"a\":2}",
                "rabbitmq|m1|malformed_json|{\"a\":1}", "rabbitmq|m2|signature_mismatch|{\"a\":1}",
                "rabbitmq|big|malformed_json|\(big.count) bytes", "rabbitmq|m3|signature_required|ab"
            ])
    }

    func testARecordedRejectionAndAKeptMessageDoNotCollide() throws {
        let store = DeliveryRejection(connection: db)
        try store.record(
            deliveryId: "msg_1", environment: "production", eventType: "user.created", clerkUserId: "user_1",
            source: "rabbitmq", reason: "data_error 22008", rawBody: "{}")
        // The same svix id and body in the other environment: its own delivery row, and its rejection, the same
        // text, adds nothing to queue_rejects instead of failing the delivery on the unique key.
        try store.record(
            deliveryId: "msg_1", environment: "development", eventType: "user.created", clerkUserId: "user_1",
            source: "rabbitmq", reason: "data_error 22008", rawBody: "{}")
        try store.keep(source: "rabbitmq", messageId: "msg_1", reason: "malformed_json", body: Array("{}".utf8))
        XCTAssertEqual(try rows(db), ["rabbitmq|msg_1|data_error 22008|{}", "rabbitmq|msg_1|malformed_json|{}"])
        XCTAssertEqual(try db.query("SELECT count(*) AS n FROM webhook_deliveries WHERE outcome = 'rejected'").first?.decode("n", as: Int.self), 2)
    }

    /// A copy an older version is keeping while migration 12 runs (functions keep running during a deploy): before,
    /// the DELETE did not see it (not committed yet), CREATE UNIQUE INDEX waited for it and then failed on it, and
    /// the failed migration stopped every later one until someone ran it again.
    func testMigration12CollapsesACopyKeptWhileItRuns() throws {
        try db.query("DROP SCHEMA IF EXISTS migrate_rejects_race CASCADE")
        try db.query("CREATE SCHEMA migrate_rejects_race")
        defer { _ = try? db.query("DROP SCHEMA migrate_rejects_race CASCADE") }
        let c = try PostgresConnection(url: TestDatabase.url)
        try c.query("SET search_path TO migrate_rejects_race")
        try Migrator.migrate(c, migrations: Schema.migrations.filter { $0.version < 12 })
        let insert = "INSERT INTO queue_rejects (source, message_id, reason, body) VALUES ('rabbitmq', 'm1', 'malformed_json', '{1}')"
        try c.query(insert)
        let older = try PostgresConnection(url: TestDatabase.url)
        try older.query("SET search_path TO migrate_rejects_race")
        try older.query("BEGIN")
        try older.query(insert)  // the older version's plain INSERT, not committed yet
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var outcome = "not run"
        DispatchQueue.global().async {
            defer { done.signal() }
            do {
                let m = try PostgresConnection(url: TestDatabase.url)
                try m.query("SET search_path TO migrate_rejects_race")
                outcome = "applied \(try Migrator.migrate(m))"
            } catch {
                outcome = "failed: \(error)"
            }
        }
        // The migration waits on the uncommitted insert's lock (at the LOCK, or before at CREATE INDEX).
        var waiting = 0
        for _ in 0..<3000 where waiting == 0 {
            waiting =
                try db.query(
                    """
                    SELECT count(*) AS n FROM pg_locks WHERE NOT granted AND relation = 'migrate_rejects_race.queue_rejects'::regclass
                    """
                ).first?.decode("n", as: Int.self) ?? 0
            if waiting == 0 { usleep(20_000) }
        }
        XCTAssertEqual(waiting, 1, "the migration reached the table while the insert was in flight")
        try older.query("COMMIT")
        done.wait()
        XCTAssertEqual(outcome, "applied \(Schema.migrations.filter { $0.version >= 12 }.map(\.version))")
        XCTAssertEqual(try c.query("SELECT count(*) AS n FROM queue_rejects").first?.decode("n", as: Int.self), 1)
    }

    func testMigration12CollapsesCopiesAndKeepsEverythingElse() throws {
        try db.query("DROP SCHEMA IF EXISTS migrate_rejects_test CASCADE")
        try db.query("CREATE SCHEMA migrate_rejects_test")
        defer { _ = try? db.query("DROP SCHEMA migrate_rejects_test CASCADE") }
        let c = try PostgresConnection(url: TestDatabase.url)
        try c.query("SET search_path TO migrate_rejects_test")
        try Migrator.migrate(c, migrations: Schema.migrations.filter { $0.version < 12 })
        for (id, reason, body) in [
            ("m1", "signature_mismatch", "{1}"), ("m1", "signature_mismatch", "{1}"), ("m1", "signature_mismatch", "{2}"),
            ("m1", "malformed_json", "{1}"), ("m1", "signature_mismatch", "{1}"), ("m2", "signature_mismatch", "{1}")
        ] {
            try c.query("INSERT INTO queue_rejects (source, message_id, reason, body) VALUES ('rabbitmq', $1, $2, $3)", [id, reason, body])
        }
        try c.query(
            "INSERT INTO queue_rejects (source, message_id, reason, body) VALUES ('rabbitmq', NULL, 'x', '{}'), ('rabbitmq', NULL, 'x', '{}')")
        XCTAssertEqual(try Migrator.migrate(c), Schema.migrations.filter { $0.version >= 12 }.map(\.version))
        let left = try c.query("SELECT id, message_id, reason, body FROM queue_rejects ORDER BY id").map {
            "\(try $0.decode("id", as: Int.self)) \(try $0.decodeIfPresent("message_id", as: String.self) ?? "-") \(try $0.decode("reason", as: String.self)) \(try $0.decode("body", as: String.self))"
        }
        XCTAssertEqual(
            left,
            [
                "1 m1 signature_mismatch {1}", "3 m1 signature_mismatch {2}", "4 m1 malformed_json {1}",
                "6 m2 signature_mismatch {1}", "7 - x {}", "8 - x {}"
            ],
            "the first of each copy stays; rows without an id are not a key and stay as they were")
    }
}
