import DevTools
import JSON
import LocalHosting
import ClerkFunctions
import ClerkKit
import LambdaRuntime
import Store

#if canImport(Glibc)
import Glibc
#endif

/// `bench-webhooks`: verify-only cost of a 2 KiB event, and verified-and-synced deliveries per second.
enum WebhookBenchmark {
    static func run(_ options: BenchOptions) {
        verifyOnly(iterations: options.int("verify-iterations", 200_000))
        guard let url = Environment.process()["DATABASE_URL"] else {
            print("DATABASE_URL is not set: run through `make bench-webhooks`, which starts a local PostgreSQL")
            exit(1)
        }
        synced(url: url, users: options.int("users", 500), events: options.int("events", 5_000))
    }

    /// A user.updated body padded to `size` bytes with metadata, as real payloads carry.
    static func body(user: String, updatedAt: Int64, size: Int = 2048) -> [UInt8] {
        let head = #"{"data":{"id":"\#(user)","object":"user","username":null,"first_name":"Ada","last_name":"Lovelace","image_url":"https://img.clerk.com/eyJ0eXBlIjoiZGVmYXVsdCJ9","has_image":false,"primary_email_address_id":"idn_1","email_addresses":[{"id":"idn_1","object":"email_address","email_address":"\#(user)@example.com","verification":{"status":"verified","strategy":"email_code"},"linked_to":[]}],"phone_numbers":[],"external_accounts":[],"public_metadata":{"plan":"pro"},"private_metadata":{},"unsafe_metadata":{"note":""#
        let tail = #""},"created_at":1735732800123,"updated_at":\#(updatedAt)},"instance_id":"ins_2Y7xK3mN8pQ4rS6tV1wZ9bC5dFh","object":"event","timestamp":\#(updatedAt + 90),"type":"user.updated"}"#
        let pad = max(0, size - head.utf8.count - tail.utf8.count)
        return Array((head + String(repeating: "x", count: pad) + tail).utf8)
    }

    static func verifyOnly(iterations n: Int) {
        let secretText = WebhookSigner.newSecret()
        let secret = try! WebhookSecret(secretText)
        let verifier = WebhookVerifier(entries: [.init(environment: "production", secret: secret)])
        let payload = body(user: "user_bench", updatedAt: 1_736_337_600_456)
        let now = Clock.nowSeconds()
        let headers = WebhookSigner(secret: secret).headers(id: "msg_2b3c4d5e6f7g8h9i0j1k2l3m4n5", timestamp: now, body: payload)
        var sink = 0
        // Warm up, then time.
        for _ in 0..<1000 { sink &+= (try? verifier.verify(header: { headers[$0] }, body: payload, now: now))?.messageId.utf8.count ?? 0 }
        let t0 = Clock.monotonicNs()
        for _ in 0..<n { sink &+= (try? verifier.verify(header: { headers[$0] }, body: payload, now: now))?.messageId.utf8.count ?? 0 }
        let verifyNs = Double(Clock.monotonicNs() - t0) / Double(n)
        let signed = Array("msg_2b3c4d5e6f7g8h9i0j1k2l3m4n5.\(now).".utf8) + payload
        let t1 = Clock.monotonicNs()
        for _ in 0..<n { sink &+= Int(secret.key.mac(signed).array[0]) }
        let hmacNs = Double(Clock.monotonicNs() - t1) / Double(n)
        let t2 = Clock.monotonicNs()
        for _ in 0..<n { sink &+= Int(Crypto.sha256(payload).array[0]) }
        let shaNs = Double(Clock.monotonicNs() - t2) / Double(n)
        print("webhook verify-only, \(payload.count)-byte body, \(n) iterations (checksum \(sink % 10)):")
        print("  full verification (headers, timestamp, base64, HMAC, constant-time compare): \(fmt(verifyNs / 1000, 2)) us/event")
        print("  bare HMAC-SHA256 of the signed content (precomputed key):                  \(fmt(hmacNs / 1000, 2)) us")
        print("  bare SHA-256 of the body (OpenSSL one-shot):                                \(fmt(shaNs / 1000, 2)) us")
        if let speed = try? Subprocess.run(path: "/usr/bin/openssl", arguments: ["speed", "-seconds", "1", "-bytes", "2048", "sha256"],
                                           environment: ["PATH": "/usr/bin:/bin"]),
           let line = speed.stdout.text.split(separator: "\n").last(where: { $0.hasPrefix("sha256") }),
           let kbps = Double(line.split(separator: " ").last.map { String($0.dropLast()) } ?? "") {
            print("  openssl speed sha256, 2048-byte blocks, same machine now:                  \(fmt(2048 / (kbps * 1000) * 1e6, 2)) us")
        }
        print("RESULT webhook-verify us_per_event=\(fmt(verifyNs / 1000, 2)) ratio_to_bare_hmac=\(fmt(verifyNs / hmacNs, 2))")
    }

    static func synced(url: String, users: Int, events: Int) {
        let secretText = WebhookSigner.newSecret()
        let signer = WebhookSigner(secret: try! WebhookSecret(secretText))
        do {
            let db = try PostgresConnection(url: url)
            try Migrator.migrate(db)
            try db.query("DELETE FROM users WHERE clerk_user_id LIKE 'user_bench_%'")
            try db.query("DELETE FROM webhook_deliveries WHERE clerk_user_id LIKE 'user_bench_%'")
            let harness = LocalHarness(registry: Functions.registry,
                                       environment: Environment(["DATABASE_URL": url, "CLERK_WEBHOOK_SECRET": secretText,
                                                                 "AWS_LAMBDA_LOG_LEVEL": "warn"]),
                                       logger: Logger(level: .warning))
            // Signed before timing: signing is the sender's work. Timestamps are fresh enough for the window.
            let base: Int64 = 1_736_337_600_000
            func event(_ user: Int, _ version: Int) -> [UInt8] {
                let b = body(user: "user_bench_\(user)", updatedAt: base + Int64(version))
                return WebhookEventBuilder.httpEvent(body: b, headers: signer.headers(
                    id: WebhookSigner.newMessageId(), timestamp: Clock.nowSeconds(), body: b))
            }
            for u in 0..<users { _ = try harness.invoke("onUserUpdated", event: event(u, 0)) }
            let batch = (0..<events).map { i in event(i % users, 1 + i / users) }
            var processed = 0
            let t0 = Clock.monotonicNs()
            for e in batch {
                let out = try harness.invoke("onUserUpdated", event: e)
                if out.count > 20 && String(decoding: out, as: UTF8.self).contains("processed") { processed += 1 }
            }
            let seconds = Double(Clock.monotonicNs() - t0) / 1e9
            print("synced user.updated deliveries: \(events) events over \(users) users, one process, local PostgreSQL (Unix socket)")
            print("  \(processed) processed in \(fmt(seconds, 2)) s: \(fmt(Double(events) / seconds, 0)) events/s, \(fmt(seconds / Double(events) * 1e6, 0)) us/event")
            print("RESULT webhook-sync events_per_s=\(fmt(Double(events) / seconds, 0)) processed=\(processed)/\(events)")
            try db.query("DELETE FROM users WHERE clerk_user_id LIKE 'user_bench_%'")
            try db.query("DELETE FROM webhook_deliveries WHERE clerk_user_id LIKE 'user_bench_%'")
        } catch {
            print("sync benchmark failed: \(error)")
            exit(1)
        }
    }
}
