import LambdaRuntime
import LocalHosting
import Store
import StoreTestSupport
import XCTest

/// A backfill item set aside is kept in `queue_rejects` once per (environment, kind, id, reason), its latest
/// body; one without an id once per body. Migration 13 collapses the copies kept before it, and two runs
/// keeping the same item at once keep one row and fail neither.
final class BackfillKeepTests: XCTestCase {
    var db: PostgresConnection!

    override func setUpWithError() throws {
        db = try TestDatabase.connect()
        try TestDatabase.reset(db)
    }

    override func tearDown() { db = nil }

    /// `message_id|reason|body` of every row, oldest first.
    func rows(_ c: PostgresConnection) throws -> [String] {
        try c.query("SELECT source, message_id, reason, body FROM queue_rejects ORDER BY id").map {
            [
                try $0.decode("source", as: String.self), try $0.decode("message_id", as: String.self),
                try $0.decode("reason", as: String.self), try $0.decode("body", as: String.self)
            ].joined(separator: "|")
        }
    }

    static func skip(_ id: String?, reason: String = "undecodable", body: String) -> BackfillSkip {
        BackfillSkip(kind: .user, clerkId: id, reason: reason, detail: "a member named twice", body: body)
    }

    /// Keeps `skips` as one page of a run (no user applied), through `connection`.
    static func keep(_ skips: [BackfillSkip], on connection: PostgresConnection) throws {
        let store = BackfillStore(connection: connection)
        let run = try store.openRun(environment: "production")
        _ = try store.applyUsers([], skipped: skips, run: run, cursor: run.users, environment: "production", dryRun: false)
    }

    /// The same id twice in one page (a hostile list), then again in a later run: one row, the last body; an
    /// item without an id is kept once per body, and the same id under another reason is another row.
    func testAnItemWithAnIdIsKeptOnceWithItsLatestBody() throws {
        try Self.keep([Self.skip("user_a", body: "{1}"), Self.skip("user_a", body: "{2}"), Self.skip(nil, body: "{n}")], on: db)
        try Self.keep(
            [
                Self.skip("user_a", body: "{3}"), Self.skip(nil, body: "{n}"), Self.skip(nil, body: "{m}"),
                Self.skip("user_a", reason: "invalid_id", body: "{1}")
            ], on: db)
        // One statement keeps the items with an id and those without in either order: compared sorted.
        XCTAssertEqual(
            try rows(db).sorted(),
            [
                "backfill|production/user/user_a|invalid_id: a member named twice|{1}",
                "backfill|production/user/user_a|undecodable: a member named twice|{3}",
                "backfill|production/user|undecodable: a member named twice|{m}", "backfill|production/user|undecodable: a member named twice|{n}"
            ])
    }

    /// Six runs keep the same new items at the same moment, the same bodies: without the per-item lock, two
    /// inserts could both pass ON CONFLICT's check and the second failed on the body-keyed index (23505).
    func testRunsKeepingTheSameItemsAtOnceKeepOneRowAndFailNone() throws {
        let workers = 6
        let rounds = 200
        let items = 40
        let done = ConditionLock()
        final class Box: @unchecked Sendable {
            var finished = 0
            var errors: [String] = []
        }
        let box = Box()
        for _ in 0..<workers {
            Threads.detach {
                do {
                    let c = try PostgresConnection(url: TestDatabase.url)
                    for r in 0..<rounds {
                        try BackfillKeepTests.keep((0..<items).map { Self.skip("user_r\(r)_\($0)", body: "{\(r)}") }, on: c)
                    }
                } catch {
                    done.withLock { box.errors.append("\(error)") }
                }
                done.withLock { box.finished += 1 }
                done.broadcast()
            }
        }
        XCTAssertTrue(done.wait(timeoutMs: 120_000) { box.finished == workers })
        XCTAssertEqual(box.errors, [])
        XCTAssertEqual(try db.query("SELECT count(*) AS n FROM queue_rejects").first?.decode("n", as: Int.self), items * rounds)
    }

    /// Copies kept before migration 13 (one per run) collapse to the newest; rows of other sources, other
    /// reasons and items without an id stay as they were.
    func testMigration13CollapsesCopiesToTheNewestAndKeepsEverythingElse() throws {
        try db.query("DROP SCHEMA IF EXISTS migrate_backfill_keep CASCADE")
        try db.query("CREATE SCHEMA migrate_backfill_keep")
        defer { _ = try? db.query("DROP SCHEMA migrate_backfill_keep CASCADE") }
        let c = try PostgresConnection(url: TestDatabase.url)
        try c.query("SET search_path TO migrate_backfill_keep")
        try Migrator.migrate(c, migrations: Schema.migrations.filter { $0.version < 13 })
        for (source, id, reason, body) in [
            ("backfill", "production/user/user_a", "undecodable: x", "{1}"), ("backfill", "production/user/user_a", "undecodable: x", "{2}"),
            ("backfill", "production/user/user_a", "data_error 22008", "{1}"), ("backfill", "production/user", "missing_id: x", "{1}"),
            ("backfill", "production/user", "missing_id: x", "{2}"), ("rabbitmq", "production/user/user_a", "undecodable: x", "{1}"),
            ("backfill", "development/user/user_a", "undecodable: x", "{1}"), ("backfill", "production/user/user_a", "undecodable: x", "{3}")
        ] {
            try c.query("INSERT INTO queue_rejects (source, message_id, reason, body) VALUES ($1, $2, $3, $4)", [source, id, reason, body])
        }
        XCTAssertEqual(try Migrator.migrate(c), Schema.migrations.filter { $0.version >= 13 }.map(\.version))
        XCTAssertEqual(
            try rows(c),
            [
                "backfill|production/user/user_a|data_error 22008|{1}", "backfill|production/user|missing_id: x|{1}",
                "backfill|production/user|missing_id: x|{2}", "rabbitmq|production/user/user_a|undecodable: x|{1}",
                "backfill|development/user/user_a|undecodable: x|{1}", "backfill|production/user/user_a|undecodable: x|{3}"
            ])
    }
}
