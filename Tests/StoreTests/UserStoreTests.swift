import JSON
import LambdaRuntime
import LocalHosting
import Store
import StoreTestSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// The sync function under concurrent deliveries: whatever interleaving, one user row and one set of
/// dependent rows.
final class UserStoreTests: XCTestCase {
    static func change(_ kind: UserChange.Kind, user: String, delivery: String, updatedAt: Int64) -> UserChange {
        UserChange(
            kind: kind, deliveryId: delivery, environment: "production",
            user: UserRecord(
                clerkUserId: user, email: "\(user)@example.com", firstName: "F\(updatedAt)",
                rawJSON: #"{"id":"\#(user)"}"#, createdAtMs: 1, updatedAtMs: updatedAt))
    }

    func testConcurrentFirstDeliveriesCreateExactlyOneUser() throws {
        let db = try TestDatabase.connect()
        try TestDatabase.reset(db)
        let workers = 4
        let users = 25
        let done = ConditionLock()
        final class Box: @unchecked Sendable {
            var finished = 0
            var errors: [String] = []
        }
        let box = Box()
        for w in 0..<workers {
            Threads.detach {
                do {
                    let c = try PostgresConnection(url: TestDatabase.url)
                    let store = UserStore(connection: c)
                    for u in 0..<users {
                        // Every worker delivers a different message about the same new user at the same time.
                        let kind: UserChange.Kind = w % 2 == 0 ? .created : .updated
                        _ = try store.apply(UserStoreTests.change(kind, user: "user_\(u)", delivery: "msg_\(u)_\(w)", updatedAt: Int64(100 + w)))
                    }
                } catch {
                    done.withLock { box.errors.append("\(error)") }
                }
                done.withLock { box.finished += 1 }
                done.broadcast()
            }
        }
        XCTAssertTrue(done.wait(timeoutMs: 60_000) { box.finished == workers })
        XCTAssertEqual(box.errors, [])
        XCTAssertEqual(try db.query("SELECT count(*) AS n FROM users").first?.decode("n", as: Int.self), users)
        XCTAssertEqual(try db.query("SELECT count(*) AS n FROM subscriptions").first?.decode("n", as: Int.self), users)
        XCTAssertEqual(try db.query("SELECT count(*) AS n FROM usage_metrics").first?.decode("n", as: Int.self), users)
        XCTAssertEqual(try db.query("SELECT count(*) AS n FROM webhook_deliveries").first?.decode("n", as: Int.self), users * workers)
        // The newest snapshot won everywhere, whatever the arrival order.
        XCTAssertEqual(
            try db.query("SELECT count(*) AS n FROM users WHERE first_name <> 'F\(100 + workers - 1)'").first?.decode("n", as: Int.self), 0)
    }

    /// An older delivery that read the row first must not overwrite a newer one that commits meanwhile: the sync
    /// function reads the row under its lock. The interleaving is forced, not hoped for: the test holds `outbox`,
    /// where the older delivery writes its event after reading the row; the newer one changes no field, so it writes
    /// no event and, unless the row lock stops it, commits while the older one waits.
    func testAnOlderDeliveryThatReadTheRowFirstNeverOverwritesANewerOne() throws {
        let db = try TestDatabase.connect()
        try TestDatabase.reset(db)
        _ = try UserStore(connection: db).apply(Self.change(.created, user: "user_race", delivery: "msg_first", updatedAt: 1000))
        let holder = try PostgresConnection(url: TestDatabase.url)
        try holder.query("BEGIN")
        try holder.query("LOCK TABLE outbox IN EXCLUSIVE MODE")
        defer { _ = try? holder.query("ROLLBACK") }  // a test that throws early must not leave the lock held
        let done = ConditionLock()
        final class Box: @unchecked Sendable {
            var statuses: [String: SyncStatus] = [:]
            var errors: [String] = []
        }
        let box = Box()
        func deliver(_ name: String, _ change: UserChange) {
            Threads.detach {
                do {
                    let status = try UserStore(connection: PostgresConnection(url: TestDatabase.url)).apply(change).status
                    done.withLock { box.statuses[name] = status }
                } catch {
                    done.withLock { box.errors.append("\(name): \(error)") }
                }
                done.broadcast()
            }
        }
        func waiting() throws -> Int {
            try holder.query("SELECT count(*) AS n FROM pg_locks WHERE NOT granted").first?.decode("n", as: Int.self) ?? 0
        }
        deliver("older", Self.change(.updated, user: "user_race", delivery: "msg_older", updatedAt: 2000))
        XCTAssertTrue(try poll { try waiting() == 1 }, "the older delivery waits to write its event")
        var newer = Self.change(.updated, user: "user_race", delivery: "msg_newer", updatedAt: 3000)
        newer.user.firstName = "F1000"  // the stored fields: no event to write
        deliver("newer", newer)
        XCTAssertTrue(try poll { try waiting() == 2 || done.withLock { box.statuses["newer"] != nil } }, "the newer delivery waits or is done")
        try holder.query("COMMIT")
        XCTAssertTrue(done.wait(timeoutMs: 30_000) { box.statuses.count + box.errors.count == 2 })
        XCTAssertEqual(box.errors, [])
        XCTAssertEqual(box.statuses["newer"], .processed)
        let row = try XCTUnwrap(
            db.query(
                """
                SELECT first_name, (extract(epoch FROM clerk_updated_at) * 1000)::bigint AS ms FROM users WHERE clerk_user_id = 'user_race'
                """
            ).first)
        XCTAssertEqual(try row.decode("ms", as: Int64.self), 3000, "the newest snapshot stays")
        XCTAssertEqual(try row.decode("first_name", as: String.self), "F1000")
    }

    /// Whether `condition` holds within 30 s (a bound, not a timing assertion).
    func poll(_ condition: () throws -> Bool) rethrows -> Bool {
        for _ in 0..<600 {
            if try condition() { return true }
            usleep(50_000)
        }
        return false
    }

    func testConcurrentRetriesOfOneDeliveryApplyOnce() throws {
        let db = try TestDatabase.connect()
        try TestDatabase.reset(db)
        let done = ConditionLock()
        final class Box: @unchecked Sendable { var statuses: [SyncStatus] = [] }
        let box = Box()
        for _ in 0..<4 {
            Threads.detach {
                let status = try? UserStore(connection: PostgresConnection(url: TestDatabase.url))
                    .apply(UserStoreTests.change(.created, user: "user_once", delivery: "msg_once", updatedAt: 5)).status
                done.withLock { box.statuses.append(status ?? .stale) }
                done.broadcast()
            }
        }
        XCTAssertTrue(done.wait(timeoutMs: 30_000) { box.statuses.count == 4 })
        XCTAssertEqual(box.statuses.filter { $0 == .processed }.count, 1)
        XCTAssertEqual(box.statuses.filter { $0 == .duplicate }.count, 3)
    }
}
