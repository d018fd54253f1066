import JSON
import LambdaRuntime
import LocalHosting
import Store

#if canImport(Glibc)
    import Glibc
#endif

/// A hold on PostgreSQL locks that the processes under test must wait for: taken before they start, let go
/// once PostgreSQL shows them all waiting at it, so that their work overlaps in every run instead of by luck.
///
/// A waiter is a backend of this database that waits for the gate, directly or behind another waiter
/// (`pg_blocking_pids`, followed back to the gate's own backend): one that waits for a process held at the
/// gate cannot move before the gate opens either. Backends that only wait for each other do not count.
public final class LockGate {
    private let connection: PostgresConnection
    private var open = false

    /// Opens a transaction and runs `statements` (`LOCK TABLE …`, `SELECT pg_advisory_xact_lock(…)`) in it.
    public init(_ statements: [String]) throws {
        connection = try TestDatabase.connect()
        try connection.query("BEGIN")
        for statement in statements { try connection.query(statement) }
    }

    deinit { if !open { _ = try? connection.query("ROLLBACK") } }

    /// The backends that wait at the gate now: their process ids and what they are running.
    public func waiters() throws -> [(pid: Int, query: String)] {
        // Within a transaction PostgreSQL answers pg_stat_activity from a snapshot taken at its first read: drop it.
        try connection.query("SELECT pg_stat_clear_snapshot()")
        return try connection.query(
            """
            WITH RECURSIVE backend AS MATERIALIZED (
                SELECT pid, query, pg_blocking_pids(pid) AS blockers FROM pg_stat_activity WHERE datname = current_database()
            ), held (pid) AS (
                SELECT pid FROM backend WHERE pg_backend_pid() = ANY (blockers)
                UNION
                SELECT b.pid FROM backend b JOIN held h ON h.pid = ANY (b.blockers)
            )
            SELECT b.pid, b.query FROM backend b JOIN held USING (pid) ORDER BY b.pid
            """
        ).map { (try $0.decode("pid", as: Int.self), try $0.decode("query", as: String.self)) }
    }

    /// Waits until `count` backends wait at the gate, or `givenUp` says they never all will (a process under
    /// test ended); at most `timeoutMs`, a bound on a hang, not a timing assertion. Returns the waiters then, for
    /// the caller to assert on.
    public func waitForWaiters(_ count: Int, timeoutMs: Int64 = 60_000, givenUp: () -> Bool = { false }) throws
        -> [(pid: Int, query: String)]
    {
        let deadline = Clock.nowMs() + timeoutMs
        var seen = try waiters()
        while seen.count < count && Clock.nowMs() < deadline && !givenUp() {
            usleep(20_000)
            seen = try waiters()
        }
        return seen
    }

    /// Lets every waiter go at once (commits the gate's transaction).
    public func release() throws {
        guard !open else { return }
        open = true
        try connection.query("COMMIT")
    }
}
