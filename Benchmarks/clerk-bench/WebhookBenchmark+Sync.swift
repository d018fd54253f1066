import ClerkFunctions
import ClerkKit
import DevTools
import JSON
import LambdaRuntime
import LocalHosting
import Store

#if canImport(Glibc)
    import Glibc
#endif

/// `bench-webhooks`, synced part: verified-and-synced user.updated deliveries per second, each one answered
/// 200 `processed` and the users table holding every user's newest version afterwards; next to the floor of
/// the same rows written by one plain parameterized UPSERT each through a libpq connection of this process.
extension WebhookBenchmark {
    /// One signed delivery: whose, which version, the body and the API Gateway event around it.
    struct Delivery {
        var user: Int
        var updatedAt: Int64
        var body: [UInt8]
        var event: [UInt8]
    }

    static let base: Int64 = 1_736_337_600_000

    static func synced(url: String, users: Int, events: Int) {
        let secretText = WebhookSigner.newSecret()
        let signer = WebhookSigner(secret: try! WebhookSecret(secretText))
        // Signed before timing: signing is the sender's work. Timestamps are fresh enough for the window.
        func delivery(_ user: Int, _ version: Int) -> Delivery {
            let b = body(user: "user_bench_\(user)", updatedAt: base + Int64(version))
            return Delivery(
                user: user, updatedAt: base + Int64(version), body: b,
                event: WebhookEventBuilder.httpEvent(
                    body: b, headers: signer.headers(id: WebhookSigner.newMessageId(), timestamp: Clock.nowSeconds(), body: b)))
        }
        do {
            let db = try PostgresConnection(url: url)
            try Migrator.migrate(db)
            try clean(db)
            let harness = LocalHarness(
                registry: Functions.registry,
                environment: Environment([
                    "DATABASE_URL": url, "CLERK_WEBHOOK_SECRET": secretText,
                    "AWS_LAMBDA_LOG_LEVEL": "warn"
                ]),
                logger: Logger(level: .warning))
            var seeded = Tally("webhook-sync seed deliveries answered 200 processed")
            for u in 0..<users {
                let out = try harness.invoke("onUserUpdated", event: delivery(u, 0).event)
                seeded.record(processed(out), else: APIAnswer.summary(out))
            }
            seeded.require(users)
            let batch = (0..<events).map { i in delivery(i % users, 1 + i / users) }
            var outputs: [[UInt8]] = []
            outputs.reserveCapacity(events)
            let t0 = Clock.monotonicNs()
            for d in batch { outputs.append(try harness.invoke("onUserUpdated", event: d.event)) }
            let seconds = Double(Clock.monotonicNs() - t0) / 1e9
            var answered = Tally("webhook-sync deliveries answered 200 processed")
            for out in outputs { answered.record(processed(out), else: APIAnswer.summary(out)) }
            answered.require(events)
            try checkNewest(db, table: "users", batch: batch, users: users)
            let floorSeconds = try upsertFloor(db, batch: batch, users: users)
            let rate = Double(events) / seconds
            let floor = Double(events) / floorSeconds
            print("synced user.updated deliveries: \(events) events over \(users) users, one process, local PostgreSQL (Unix socket)")
            print("  \(events) processed in \(fmt(seconds, 2)) s: \(fmt(rate, 0)) events/s, \(fmt(seconds / Double(events) * 1e6, 0)) us/event")
            print(
                "  floor, one plain parameterized UPSERT of the same row per event, same database: \(fmt(floor, 0)) rows/s, "
                    + "\(fmt(floorSeconds / Double(events) * 1e6, 0)) us/row")
            print("RESULT webhook-sync events_per_s=\(fmt(rate, 0)) processed=\(answered.passed)/\(events) floor_upserts_per_s=\(fmt(floor, 0))")
            print("RATIO webhook-sync events_per_s/plain_upserts_per_s=\(fmt(rate / floor, 2))")
            try clean(db)
        } catch {
            print("sync benchmark failed: \(error)")
            exit(1)
        }
    }

    static func clean(_ db: PostgresConnection) throws {
        try db.query("DELETE FROM users WHERE clerk_user_id LIKE 'user_bench_%'")
        try db.query("DELETE FROM webhook_deliveries WHERE clerk_user_id LIKE 'user_bench_%'")
        try db.query("DROP TABLE IF EXISTS bench_floor_users")
    }

    /// Whether a webhook answer is HTTP 200 with `status: processed`.
    static func processed(_ out: [UInt8]) -> Bool {
        guard let answer = APIAnswer(out), answer.status == 200 else { return false }
        return answer.body["status"]?.stringValue == "processed"
    }

    /// Every user in `table` holds the newest version its deliveries carried, and no other bench user is there.
    static func checkNewest(_ db: PostgresConnection, table: String, batch: [Delivery], users: Int) throws {
        var newest: [String: Int64] = [:]
        for d in batch { newest["user_bench_\(d.user)"] = max(newest["user_bench_\(d.user)"] ?? 0, d.updatedAt) }
        let rows = try db.query(
            """
            SELECT clerk_user_id, round(extract(epoch FROM clerk_updated_at) * 1000)::bigint AS ms
              FROM \(table) WHERE clerk_user_id LIKE 'user_bench_%' AND environment = 'production'
            """)
        var current = 0
        for row in rows {
            let id = try row.decode("clerk_user_id", as: String.self)
            let ms = try row.decode("ms", as: Int64.self)
            if newest[id] == ms { current += 1 }
        }
        Tally.expect("webhook-sync \(table) rows at their newest version", current, users)
        Tally.expect("webhook-sync \(table) rows", rows.count, users)
    }

    /// The floor: the same rows (the user, its names, the 2 KiB body as jsonb, its version) upserted one
    /// statement each, autocommitted, into a plain table with the users table's unique key. Seeded with the
    /// first versions untimed, as the handler's table was. Answers the timed seconds.
    static func upsertFloor(_ db: PostgresConnection, batch: [Delivery], users: Int) throws -> Double {
        try db.query(
            """
            CREATE TABLE bench_floor_users (clerk_user_id text NOT NULL, environment text NOT NULL, email text, first_name text,
              last_name text, raw_payload jsonb, clerk_updated_at timestamptz, updated_at timestamptz NOT NULL DEFAULT now(),
              UNIQUE (clerk_user_id, environment))
            """)
        let upsert = """
            INSERT INTO bench_floor_users (clerk_user_id, environment, email, first_name, last_name, raw_payload, clerk_updated_at)
            VALUES ($1, 'production', $2, 'Ada', 'Lovelace', $3::jsonb, to_timestamp($4::bigint / 1000.0))
            ON CONFLICT (clerk_user_id, environment) DO UPDATE SET email = EXCLUDED.email, first_name = EXCLUDED.first_name,
              last_name = EXCLUDED.last_name, raw_payload = EXCLUDED.raw_payload, clerk_updated_at = EXCLUDED.clerk_updated_at,
              updated_at = now()
            RETURNING 1
            """
        func row(_ d: Delivery) throws -> Int {
            let id = "user_bench_\(d.user)"
            return try db.query(upsert, [id, id + "@example.com", String(decoding: d.body, as: UTF8.self), d.updatedAt]).count
        }
        var seeded = Tally("webhook-sync floor seed upserts")
        for u in 0..<users {
            let first = Delivery(user: u, updatedAt: base, body: body(user: "user_bench_\(u)", updatedAt: base), event: [])
            let stored = try row(first)
            seeded.record(stored == 1, else: "no row")
        }
        seeded.require(users)
        var upserts = Tally("webhook-sync floor upserts")
        let t0 = Clock.monotonicNs()
        for d in batch {
            let stored = try row(d)
            upserts.record(stored == 1, else: "no row")
        }
        let seconds = Double(Clock.monotonicNs() - t0) / 1e9
        upserts.require(batch.count)
        try checkNewest(db, table: "bench_floor_users", batch: batch, users: users)
        return seconds
    }
}
