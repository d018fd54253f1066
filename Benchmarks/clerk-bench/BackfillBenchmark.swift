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
/// floor of the same rows inserted by one plain multi-row INSERT per page in the same run. Every run must
/// create (then find unchanged) every user, and the floor must store every row.
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
            var first: [Double] = []
            var second: [Double] = []
            for round in 1...3 {
                let (a, b) = try runs(db: db, standIn: standIn, n: n)
                first.append(a)
                second.append(b)
                print("round \(round): first run \(fmt(a, 0)) users/s (created \(n)); second run \(fmt(b, 0)) users/s (unchanged \(n))")
            }
            let fetch = try pagesAlone(standIn, n: n)
            print("pages alone: \(fmt(fetch, 0)) users/s (Backend API stand-in on loopback, decoded)")
            let floor = try insertFloor(db, n: n)
            print("floor: \(fmt(floor, 0)) plain rows/s (one INSERT per page, no API, no sync rules)")
            print("target: >= 5,000 users/s")
            func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }
            print(
                "RESULT backfill users_per_s=\(fmt(median(first), 0)) unchanged_users_per_s=\(fmt(median(second), 0)) "
                    + "pages_alone_users_per_s=\(fmt(fetch, 0)) floor_rows_per_s=\(fmt(floor, 0))")
            print(
                "RATIO backfill users_per_s/plain_insert_rows_per_s=\(fmt(median(first) / floor, 2)) "
                    + "users_per_s/pages_alone=\(fmt(median(first) / fetch, 2))")
        } catch {
            print("backfill benchmark failed: \(error)")
            exit(1)
        }
    }

    /// One round: a backfill into empty tables, then one over what it wrote; users per second of each.
    static func runs(db: PostgresConnection, standIn: ClerkAPIStandIn, n: Int) throws -> (Double, Double) {
        try db.query("TRUNCATE users, subscriptions, usage_metrics, webhook_deliveries, outbox, backfill_runs CASCADE")
        let api = try ClerkBackendAPI(baseURL: standIn.baseURL, secretKey: standIn.secretKey)
        let started = Clock.monotonicNs()
        let summary = try Backfill(api: api, connection: db, environment: "production", logger: Logger(level: .error))
            .run(only: [.users], deadlineMs: Int64.max / 4)
        let seconds = Double(Clock.monotonicNs() - started) / 1e9
        var created = BackfillCounts()
        created.created = n
        Tally.expect("backfill first run complete", summary.complete, "stopped early")
        Tally.expect("backfill first run created every user", summary.users == created, "\(summary.users)")
        let stored = try db.query("SELECT count(*)::int AS n FROM users WHERE clerk_user_id LIKE 'user_bench%' AND environment = 'production'")
        Tally.expect("backfill users stored", try stored.first?.decode("n", as: Int.self) ?? 0, n)
        let again = Clock.monotonicNs()
        let second = try Backfill(api: api, connection: db, environment: "production", logger: Logger(level: .error))
            .run(only: [.users], deadlineMs: Int64.max / 4)
        let secondSeconds = Double(Clock.monotonicNs() - again) / 1e9
        var unchanged = BackfillCounts()
        unchanged.unchanged = n
        Tally.expect("backfill second run complete", second.complete, "stopped early")
        Tally.expect("backfill second run found every user unchanged", second.users == unchanged, "\(second.users)")
        return (Double(n) / seconds, Double(n) / secondSeconds)
    }

    /// Where the time goes: the pages alone (HTTP on loopback, decoding each user and its raw JSON).
    static func pagesAlone(_ standIn: ClerkAPIStandIn, n: Int) throws -> Double {
        let api = try ClerkBackendAPI(baseURL: standIn.baseURL, secretKey: standIn.secretKey)
        let started = Clock.monotonicNs()
        var offset = 0
        while offset < n {
            let page = try api.usersWithJSON(limit: 500, offset: offset, deadlineMs: Int64.max / 4).count
            if page == 0 { break }
            offset += page
        }
        let rate = Double(n) / (Double(Clock.monotonicNs() - started) / 1e9)
        Tally.expect("backfill pages alone read every user", offset, n)
        return rate
    }

    /// The floor: the same users as plain rows, one multi-row INSERT per page of 500.
    static func insertFloor(_ db: PostgresConnection, n: Int) throws -> Double {
        try db.query("CREATE TEMP TABLE floor_users (clerk_user_id text, email text)")
        let started = Clock.monotonicNs()
        var i = 0
        var inserted = 0
        while i < n {
            let page = (i..<min(i + 500, n))
            inserted += try db.query(
                "INSERT INTO floor_users SELECT * FROM unnest($1::text[], $2::text[])",
                [
                    PostgresArray(page.map { Optional("user_bench\($0)") }), PostgresArray(page.map { Optional("b\($0)@example.com") })
                ]
            ).affected
            i += 500
        }
        let rate = Double(n) / (Double(Clock.monotonicNs() - started) / 1e9)
        Tally.expect("backfill floor rows inserted", inserted, n)
        let stored = try db.query("SELECT count(DISTINCT clerk_user_id)::int AS n FROM floor_users")
        Tally.expect("backfill floor rows stored", try stored.first?.decode("n", as: Int.self) ?? 0, n)
        return rate
    }
}
