import JSON
import LambdaRuntime
import TestSupport
import XCTest

@testable import Store

extension XCTestCase {
    /// Starts `count` relay processes (`start`) against an outbox the test holds locked against every read, and
    /// lets them go together once all wait on it: the relay that took the relay lock waits at its first read of
    /// rows, the others at their count of what is pending (having found the lock taken). Asserts that they all
    /// waited and that exactly one held the relay lock meanwhile, then that every process ended with exit code 0;
    /// returns their answers, in start order.
    func relaysHeldTogether(
        _ count: Int, db: PostgresConnection, _ start: () -> ChildProcess,
        file: StaticString = #filePath, line: UInt = #line
    ) throws -> [JSONValue] {
        let gate = try LockGate(["LOCK TABLE outbox IN ACCESS EXCLUSIVE MODE"])
        let relays = (0..<count).map { _ in start() }
        let waiting = try gate.waitForWaiters(count)
        XCTAssertEqual(waiting.count, count, "every relay is under way before any is let go: \(waiting)", file: file, line: line)
        let holders = try db.query(
            """
            SELECT count(*) AS n FROM pg_locks
             WHERE locktype = 'advisory' AND granted AND objsubid = 1
               AND (classid::text::bigint << 32 | objid::text::bigint) = $1
            """, [OutboxStore.relayLockKey]
        ).first?.decode("n", as: Int.self)
        XCTAssertEqual(holders, 1, "one relay holds the outbox while they wait: \(waiting)", file: file, line: line)
        try gate.release()
        return try relays.map { relay in
            let r = try relay.result()
            XCTAssertEqual(r.exit.code, 0, r.stderr.text, file: file, line: line)
            return try JSONValue.parse(r.stdout)
        }
    }
}
