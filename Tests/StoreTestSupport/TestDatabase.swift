import JSON
import LambdaRuntime
import LocalHosting
import RuntimeSupport
import Store

#if canImport(Glibc)
    import Glibc
#endif

/// The PostgreSQL server the tests run against: `DATABASE_URL`, which `make test` always provides
/// (a private cluster when none is given). Without it the tests fail with a clear message; they never skip.
public enum TestDatabase {
    /// `DATABASE_URL`, or a fatal error naming the command to run.
    public static var url: String {
        guard let url = Environment.process()["DATABASE_URL"] else {
            fatalError("DATABASE_URL is not set: run the tests with `make test`, which starts a private PostgreSQL")
        }
        return url
    }

    /// A new connection with the schema migrated.
    public static func connect() throws -> PostgresConnection {
        let c = try PostgresConnection(url: url)
        try Migrator.migrate(c)
        return c
    }

    /// Empties every application table (tests start from a known state).
    public static func reset(_ c: PostgresConnection) throws {
        try c.query(
            "TRUNCATE users, organizations, organization_memberships, subscriptions, usage_metrics, webhook_deliveries, api_keys, outbox, queue_rejects, backfill_runs CASCADE"
        )
    }

    /// Restarts the server, which the test run must have started itself (`CLERK_LOCAL_POSTGRES`): a server given
    /// from outside is never restarted, and a test that needs a restart fails rather than test something else.
    public static func restartServer() throws {
        guard let script = Environment.process()["CLERK_LOCAL_POSTGRES"] else {
            throw ServerControlError(
                """
                this test restarts its PostgreSQL server, and DATABASE_URL was given from outside (CLERK_LOCAL_POSTGRES is \
                not set): run it with DATABASE_URL unset under scripts/with-database.sh (make test does), which starts a private cluster
                """)
        }
        let r = try Subprocess.run(path: "/bin/bash", arguments: [script, "restart"], environment: Environment.process().values)
        guard r.exit.code == 0 else { throw ServerControlError("local-postgres.sh restart failed (\(r.exit.code)): \(r.stderr.text)") }
    }
}

/// A test could not stop, restart or resume the server it needs.
public struct ServerControlError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
