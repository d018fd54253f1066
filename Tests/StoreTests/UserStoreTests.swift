import JSON
import LocalHosting
import LambdaRuntime
import Store
import TestSupport
import XCTest

/// The sync function under concurrent deliveries: whatever interleaving, one user row and one set of
/// dependent rows.
final class UserStoreTests: XCTestCase {
    static func change(_ kind: UserChange.Kind, user: String, delivery: String, updatedAt: Int64) -> UserChange {
        UserChange(kind: kind, deliveryId: delivery, environment: "production", clerkUserId: user, email: "\(user)@example.com",
                   firstName: "F\(updatedAt)", createdAtMs: 1, updatedAtMs: updatedAt,
                   rawBody: #"{"type":"\#(kind.rawValue)","data":{"id":"\#(user)"}}"#)
    }

    func testConcurrentFirstDeliveriesCreateExactlyOneUser() throws {
        let db = try TestDatabase.connect()
        try TestDatabase.reset(db)
        let workers = 4, users = 25
        let done = ConditionLock()
        final class Box: @unchecked Sendable { var finished = 0; var errors: [String] = [] }
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
        XCTAssertEqual(try db.query("SELECT count(*) AS n FROM users WHERE first_name <> 'F\(100 + workers - 1)'").first?.decode("n", as: Int.self), 0)
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
