import ClerkKit
import DevTools
import JSON
import LambdaRuntime
import LocalHosting

#if canImport(Glibc)
    import Glibc
#endif

/// `bench-tokens`: verifications per second of a cached-key RS256 Clerk session token, next to OpenSSL's
/// bare RSA-2048 verify rate on the same machine in the same run. Every timed verification must pass and
/// name the signed subject; one that does not ends the run before any figure is printed.
enum TokenBenchmark {
    static let subject = "user_2Zs8PqLwX4nT6kVb9cRj1mHdYeF"

    static func run(_ options: BenchOptions) {
        let n = options.int("iterations", 50_000)
        let rounds = options.int("rounds", 3)
        let key = try! DevelopmentKey(keyId: "ins_2Y7xK3mN8pQ4rS6tV1wZ9bC5dFh")
        let jwks = Array(key.jwks().utf8)
        let cache = JWKSCache(source: .remote(url: "memory://jwks", headers: []), fetcher: { _, _, _ in jwks }, logger: Logger(level: .error))
        let verifier = TokenVerifier(
            instances: [.init(issuer: "https://clerk.example.com", environment: "production", keys: cache)],
            authorizedParties: ["https://app.example.com"])
        let claims = DevelopmentKey.sessionClaims(
            subject: subject, issuer: "https://clerk.example.com", now: Clock.nowSeconds(), ttl: 3600,
            sessionId: "sess_2a7Q9cJx3LmT8vRk1pWn5yZbHdE", authorizedParty: "https://app.example.com",
            extra: "")
        let token = try! key.sign(payloadJSON: claims)
        let nowMs = Clock.nowMs()

        var warm = Tally("tokens warm-up verification")
        for _ in 0..<1000 { check(&warm) { try verifier.verify(token, nowMs: nowMs) } }
        warm.require(1000)
        // Best of three rounds: the least disturbed by whatever else the machine does.
        var full = Tally("tokens full verification")
        let fullNs = best(rounds, n) { for _ in 0..<n { check(&full) { try verifier.verify(token, nowMs: nowMs) } } }
        full.require(rounds * n)

        // As verifyToken checks a bearer token: its type first, then the session check. Parsing the token once
        // for both is what the handler does; the text-based type check before the verification, what it did.
        var once = Tally("tokens type + verification, one parse")
        var twice = Tally("tokens type + verification, parsed twice")
        let handlerNs = best(rounds, n) {
            for _ in 0..<n {
                check(&once) {
                    let parsed = try ParsedToken.parse(token)
                    guard ClerkTokenType.detect(parsed) == .sessionToken else { throw TokenError.malformed("not a session token") }
                    return try verifier.verify(parsed, nowMs: nowMs)
                }
            }
        }
        let twiceNs = best(rounds, n) {
            for _ in 0..<n {
                check(&twice) {
                    guard ClerkTokenType.detect(token) == .sessionToken else { throw TokenError.malformed("not a session token") }
                    return try verifier.verify(token, nowMs: nowMs)
                }
            }
        }
        once.require(rounds * n)
        twice.require(rounds * n)
        let (bareNs, jwkNs) = rsaAlone(key: key, token: token, n: n, rounds: rounds)
        report(token: token, n: n, rounds: rounds, fullNs: fullNs, handlerNs: handlerNs, twiceNs: twiceNs, bareNs: bareNs, jwkNs: jwkNs)
    }

    /// Counts one verification: it must not throw and must name the token's subject.
    @inline(__always)
    static func check(_ tally: inout Tally, _ verify: () throws -> VerifiedSession) {
        do {
            let session = try verify()
            tally.record(session.claims.subject == subject, else: "wrong subject")
        } catch {
            tally.fail((error as? TokenError)?.reason ?? "\(error)")
        }
    }

    /// The least nanoseconds per iteration over `rounds` runs of `body` (which runs `n` iterations).
    static func best(_ rounds: Int, _ n: Int, _ body: () -> Void) -> Double {
        var least = Double.infinity
        for _ in 0..<rounds {
            let t0 = Clock.monotonicNs()
            body()
            least = min(least, Double(Clock.monotonicNs() - t0) / Double(n))
        }
        return least
    }

    /// The same RSA check alone, through the same cached context (the floor this verifier can reach), and
    /// with the key built from the JWK as the verifier's cache does. Each verify must answer true.
    static func rsaAlone(key: DevelopmentKey, token: String, n: Int, rounds: Int) -> (bare: Double, fromJWK: Double) {
        let parts = token.split(separator: ".")
        let input = Array("\(parts[0]).\(parts[1])".utf8)
        let signature = Base64.decode(String(parts[2]))!
        let pub = try! RSAPublicKey(pem: key.publicPEM)
        var bare = Tally("tokens SHA-256 + RSA-2048 verify alone")
        let bareNs = best(rounds, n) {
            for _ in 0..<n { bare.record(input.withUnsafeBytes { pub.verify(shaBits: 256, input: $0, signature: signature) }, else: "false") }
        }
        bare.require(rounds * n)
        let jwkValue = try! JSONValue.parse(Array(key.jwk().utf8))
        let fromJWK = try! RSAPublicKey(n: jwkValue["n"]!.stringValue!, e: jwkValue["e"]!.stringValue!)
        var jwk = Tally("tokens RSA verify alone, key from the JWK")
        let jwkNs = best(1, n) {
            for _ in 0..<n { jwk.record(input.withUnsafeBytes { fromJWK.verify(shaBits: 256, input: $0, signature: signature) }, else: "false") }
        }
        jwk.require(n)
        return (bareNs, jwkNs)
    }

    static func report(token: String, n: Int, rounds: Int, fullNs: Double, handlerNs: Double, twiceNs: Double, bareNs: Double, jwkNs: Double) {
        print("  (RSA verify alone, key built from the JWK: \(fmt(jwkNs / 1000, 1)) us)")
        print("session token verification, \(token.utf8.count)-byte RS256 token, cached key, best of \(rounds) rounds of \(n) (every one verified):")
        print("  full verification (parse, header, key lookup, signature, claims): \(fmt(1e9 / fullNs, 0))/s, \(fmt(fullNs / 1000, 1)) us")
        print(
            "  type + verification as verifyToken does it, one parse:             \(fmt(handlerNs / 1000, 1)) us (parsed twice: \(fmt(twiceNs / 1000, 1)) us)"
        )
        print("  SHA-256 + RSA-2048 verify alone (cached context):                 \(fmt(1e9 / bareNs, 0))/s, \(fmt(bareNs / 1000, 1)) us")
        var opensslRate: Double?
        if let speed = try? Subprocess.run(
            path: "/usr/bin/openssl", arguments: ["speed", "-seconds", "2", "rsa2048"],
            environment: ["PATH": "/usr/bin:/bin"]),
            let line = speed.stdout.text.split(separator: "\n").last(where: { $0.contains("rsa") && $0.contains("2048") })
        {
            // "rsa 2048 bits 0.000645s 0.000019s   1550.0  52300.1": the last column is verifies/s.
            opensslRate = line.split(separator: " ").last.flatMap { Double($0) }
            if let r = opensslRate {
                print("  openssl speed rsa2048 verify, same machine now:                    \(fmt(r, 0))/s, \(fmt(1e6 / r, 1)) us")
            }
        }
        let ratio = opensslRate.map { $0 / (1e9 / fullNs) }
        print(
            "RESULT tokens verifications_per_s=\(fmt(1e9 / fullNs, 0)) us_per_token=\(fmt(fullNs / 1000, 1))"
                + (ratio.map { " ratio_to_openssl_verify=\(fmt($0, 2))" } ?? ""))
        print("RATIO tokens full_verification/rsa_verify_alone=\(fmt(fullNs / bareNs, 2))")
    }
}

extension Array where Element == UInt8 {
    var text: String { String(decoding: self, as: UTF8.self) }
}
