import ClerkFunctions
import ClerkKit
import ClerkStandIn
import LambdaRuntime
import LocalHosting
import Store
#if canImport(Glibc)
import Glibc
#endif

/// `bench-backfill`: users per second from the Backend API stand-in into the local PostgreSQL, next to the
/// floor of the same rows inserted by one plain multi-row INSERT per page in the same run.
enum BackfillBenchmark {
    static func run(_ options: BenchOptions) {
        let n = options.int("users", 20_000)
        guard let url = Environment.process()["DATABASE_URL"] else {
            print("DATABASE_URL is not set (run through make bench-backfill)")
            exit(1)
        }
        do {
            let db = try PostgresConnection(url: url)
            try Migrator.migrate(db)
            let standIn = try ClerkAPIStandIn()
            for i in 0..<n { standIn.addUser(id: "user_bench\(i)", email: "b\(i)@example.com", updatedAt: 1_735_732_800_000 + Int64(i)) }
            print("backfill benchmark: \(n) users from the Backend API stand-in, pages of 500")
            for round in 1...3 {
                try db.query("TRUNCATE users, subscriptions, usage_metrics, webhook_deliveries, outbox, backfill_runs CASCADE")
                let api = try ClerkBackendAPI(baseURL: standIn.baseURL, secretKey: standIn.secretKey)
                let started = Clock.monotonicNs()
                let summary = try Backfill(api: api, connection: db, environment: "production", logger: Logger(level: .error))
                    .run(only: [.users], deadlineMs: Int64.max / 4)
                let seconds = Double(Clock.monotonicNs() - started) / 1e9
                let again = Clock.monotonicNs()
                let second = try Backfill(api: api, connection: db, environment: "production", logger: Logger(level: .error))
                    .run(only: [.users], deadlineMs: Int64.max / 4)
                let secondSeconds = Double(Clock.monotonicNs() - again) / 1e9
                print("round \(round): first run \(fmt(Double(n) / seconds, 0)) users/s (created \(summary.users.created)); "
                      + "second run \(fmt(Double(n) / secondSeconds, 0)) users/s (unchanged \(second.users.unchanged))")
            }
            // Where the time goes: the pages alone (HTTP on loopback, decoding each user and its raw JSON).
            let api = try ClerkBackendAPI(baseURL: standIn.baseURL, secretKey: standIn.secretKey)
            let fetchStarted = Clock.monotonicNs()
            var offset = 0
            while offset < n {
                offset += try api.usersWithJSON(limit: 500, offset: offset, deadlineMs: Int64.max / 4).count
            }
            let fetch = Double(n) / (Double(Clock.monotonicNs() - fetchStarted) / 1e9)
            print("pages alone: \(fmt(fetch, 0)) users/s (Backend API stand-in on loopback, decoded)")
            // The floor: the same users as plain rows, one multi-row INSERT per page of 500.
            try db.query("CREATE TEMP TABLE floor_users (clerk_user_id text, email text)")
            let started = Clock.monotonicNs()
            var i = 0
            while i < n {
                let page = (i..<min(i + 500, n))
                try db.query("INSERT INTO floor_users SELECT * FROM unnest($1::text[], $2::text[])", [
                    PostgresArray(page.map { Optional("user_bench\($0)") }), PostgresArray(page.map { Optional("b\($0)@example.com") }),
                ])
                i += 500
            }
            let floor = Double(n) / (Double(Clock.monotonicNs() - started) / 1e9)
            print("floor: \(fmt(floor, 0)) plain rows/s (one INSERT per page, no API, no sync rules)")
            print("target: >= 5,000 users/s")
        } catch {
            print("backfill benchmark failed: \(error)")
            exit(1)
        }
    }
}
