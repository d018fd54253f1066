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

/// `bench-webhooks`: verify-only cost of a 2 KiB event next to a bare HMAC, every verification checked; and
/// verified-and-synced deliveries per second next to a plain UPSERT of the same rows (`WebhookBenchmark+Sync`).
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
        let head =
            #"{"data":{"id":"\#(user)","object":"user","username":null,"first_name":"Ada","last_name":"Lovelace","image_url":"https://img.clerk.com/eyJ0eXBlIjoiZGVmYXVsdCJ9","has_image":false,"primary_email_address_id":"idn_1","email_addresses":[{"id":"idn_1","object":"email_address","email_address":"\#(user)@example.com","verification":{"status":"verified","strategy":"email_code"},"linked_to":[]}],"phone_numbers":[],"external_accounts":[],"public_metadata":{"plan":"pro"},"private_metadata":{},"unsafe_metadata":{"note":""#
        let tail =
            #""},"created_at":1735732800123,"updated_at":\#(updatedAt)},"instance_id":"ins_2Y7xK3mN8pQ4rS6tV1wZ9bC5dFh","object":"event","timestamp":\#(updatedAt + 90),"type":"user.updated"}"#
        let pad = max(0, size - head.utf8.count - tail.utf8.count)
        return Array((head + String(repeating: "x", count: pad) + tail).utf8)
    }

    static func verifyOnly(iterations n: Int) {
        let secretText = WebhookSigner.newSecret()
        let secret = try! WebhookSecret(secretText)
        let verifier = WebhookVerifier(entries: [.init(environment: "production", secret: secret)])
        let payload = body(user: "user_bench", updatedAt: 1_736_337_600_456)
        let now = Clock.nowSeconds()
        let messageId = "msg_2b3c4d5e6f7g8h9i0j1k2l3m4n5"
        let headers = WebhookSigner(secret: secret).headers(id: messageId, timestamp: now, body: payload)
        // Every verification must pass and name the message; the floors must compute what the header carries.
        func verify(_ tally: inout Tally) {
            do {
                let verified = try verifier.verify(header: { headers[$0] }, body: payload, now: now)
                tally.record(verified.messageId == messageId && verified.environment == "production", else: "wrong message or environment")
            } catch {
                tally.fail(error.reason)
            }
        }
        var warm = Tally("webhook-verify warm-up")
        for _ in 0..<1000 { verify(&warm) }
        warm.require(1000)
        var full = Tally("webhook-verify full verification")
        let t0 = Clock.monotonicNs()
        for _ in 0..<n { verify(&full) }
        let verifyNs = Double(Clock.monotonicNs() - t0) / Double(n)
        full.require(n)
        let signed = Array("\(messageId).\(now).".utf8) + payload
        let expectedMac = secret.key.mac(signed)
        let sent = headers["svix-signature"].flatMap { $0.split(separator: ",").last }.flatMap { Base64.decode(String($0)) }
        Tally.expect("webhook-verify bare HMAC computes the header's signature", sent == expectedMac.array, "it does not")
        var hmac = Tally("webhook-verify bare HMAC-SHA256")
        let t1 = Clock.monotonicNs()
        for _ in 0..<n { hmac.record(secret.key.mac(signed) == expectedMac, else: "different MAC") }
        let hmacNs = Double(Clock.monotonicNs() - t1) / Double(n)
        hmac.require(n)
        let expectedSHA = Crypto.sha256(payload)
        var sha = Tally("webhook-verify bare SHA-256")
        let t2 = Clock.monotonicNs()
        for _ in 0..<n { sha.record(Crypto.sha256(payload) == expectedSHA, else: "different digest") }
        let shaNs = Double(Clock.monotonicNs() - t2) / Double(n)
        sha.require(n)
        print("webhook verify-only, \(payload.count)-byte body, \(n) iterations (every one verified):")
        print("  full verification (headers, timestamp, base64, HMAC, constant-time compare): \(fmt(verifyNs / 1000, 2)) us/event")
        print("  bare HMAC-SHA256 of the signed content (precomputed key):                  \(fmt(hmacNs / 1000, 2)) us")
        print("  bare SHA-256 of the body (OpenSSL one-shot):                                \(fmt(shaNs / 1000, 2)) us")
        if let speed = try? Subprocess.run(
            path: "/usr/bin/openssl", arguments: ["speed", "-seconds", "1", "-bytes", "2048", "sha256"],
            environment: ["PATH": "/usr/bin:/bin"]),
            let line = speed.stdout.text.split(separator: "\n").last(where: { $0.hasPrefix("sha256") }),
            let kbps = Double(line.split(separator: " ").last.map { String($0.dropLast()) } ?? "")
        {
            print("  openssl speed sha256, 2048-byte blocks, same machine now:                  \(fmt(2048 / (kbps * 1000) * 1e6, 2)) us")
        }
        print("RESULT webhook-verify us_per_event=\(fmt(verifyNs / 1000, 2)) ratio_to_bare_hmac=\(fmt(verifyNs / hmacNs, 2))")
    }
}
