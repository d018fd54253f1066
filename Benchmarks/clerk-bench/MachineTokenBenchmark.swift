import ClerkKit
import ClerkStandIn
import DevTools
import HTTPClient
import JSON
import LambdaRuntime
import LocalHosting

#if canImport(Glibc)
    import Glibc
#endif

/// `bench-machine`: an opaque machine-token check answered from the cache (type detection, SHA-256 of the
/// token, one locked lookup), and one that asks the Backend API stand-in on loopback, next to a bare
/// libcurl round trip with the same request to the same stand-in in the same run; then a flood of random
/// opaque tokens with and without the container's caps on uncached lookups (`MachineTokenBenchmark+Flood`).
/// Every timed check must pass with the key's subject, every round trip answer 200.
enum MachineTokenBenchmark {
    static let subject = "org_2b1M4kQz8RtY6wXc3nVp7LsJfGa"

    /// Nanoseconds per iteration of each part, best of the rounds.
    struct Figures {
        var cachedNs = 0.0, uncachedNs = 0.0, bareNs = 0.0, apiNs = 0.0, decoderNs = 0.0, detectNs = 0.0
        var sessionBytes = 0
    }

    static func run(_ options: BenchOptions) {
        let cachedN = options.int("iterations", 200_000)
        let callsN = options.int("calls", 2_000)
        let rounds = options.int("rounds", 3)
        do {
            let standIn = try ClerkAPIStandIn()
            let token = "ak_live_" + Base64.encode(Crypto.randomBytes(24), url: true)
            standIn.addMachineToken(.apiKey, token: token, subject: subject, scopes: ["read", "write"], claims: #"{"team":"bench"}"#)
            let keys = JWKSCache(source: .remote(url: "memory://unused", headers: []), fetcher: { _, _, _ in [] }, logger: Logger(level: .error))
            let sessionKeys = TokenVerifier(instances: [.init(issuer: nil, environment: "production", keys: keys)])
            var f = Figures()
            try verifierParts(standIn, token: token, keys: sessionKeys, cachedN: cachedN, callsN: callsN, rounds: rounds, into: &f)
            try roundTripParts(standIn, token: token, callsN: callsN, rounds: rounds, into: &f)
            try detectPart(cachedN: cachedN, rounds: rounds, into: &f)
            let load = ((try? FileIO.readText("/proc/loadavg")) ?? "?").split(separator: " ").prefix(3).joined(separator: " ")
            print("machine-token checks, opaque API key, best of \(rounds) rounds (every check verified; load average \(load)):")
            print(
                "  cached (detect type, SHA-256, cache lookup), \(cachedN) checks:        \(fmt(f.cachedNs / 1000, 2)) us, \(fmt(1e9 / f.cachedNs, 0))/s"
            )
            print("  uncached (one POST /v1/api_keys/verify to the stand-in), \(callsN) checks: \(fmt(f.uncachedNs / 1000, 1)) us")
            print("  bare libcurl round trip, same request to the same stand-in:         \(fmt(f.bareNs / 1000, 1)) us")
            print("  uncached minus bare round trip:                                      \(fmt((f.uncachedNs - f.bareNs) / 1000, 1)) us")
            print("    of which the Backend API client's POST alone:                     \(fmt(f.apiNs / 1000, 1)) us")
            print("  (Clerk's answer through the generic JSONDecoder instead, not used:  \(fmt(f.decoderNs / 1000, 1)) us)")
            print("  type detection of a \(f.sessionBytes)-byte session token (added to each session check): \(fmt(f.detectNs / 1000, 2)) us")
            try runFlood(options, keys: sessionKeys)
            print(
                "RESULT machine cached_us=\(fmt(f.cachedNs / 1000, 2)) uncached_us=\(fmt(f.uncachedNs / 1000, 1)) bare_round_trip_us=\(fmt(f.bareNs / 1000, 1))"
            )
            print("RATIO machine uncached/bare_round_trip=\(fmt(f.uncachedNs / f.bareNs, 2))")
        } catch {
            print("machine benchmark failed: \(error)")
            exit(1)
        }
    }

    /// The least nanoseconds per iteration over `rounds` runs of `n` iterations of `body`.
    static func best(_ rounds: Int, _ n: Int, _ body: () -> Void) -> Double {
        var least = Double.infinity
        for _ in 0..<rounds {
            let t0 = Clock.monotonicNs()
            for _ in 0..<n { body() }
            least = min(least, Double(Clock.monotonicNs() - t0) / Double(n))
        }
        return least
    }

    /// The verifier's checks, from the cache and through the stand-in: each must pass with the key's subject.
    static func verifierParts(
        _ standIn: ClerkAPIStandIn, token: String, keys: TokenVerifier, cachedN: Int, callsN: Int,
        rounds: Int, into f: inout Figures
    ) throws {
        func verifier(ttl: Int) throws -> MachineTokenVerifier {
            let api = try ClerkBackendAPI(baseURL: standIn.baseURL, secretKey: standIn.secretKey)
            // No caps: this part measures a call, not the flood guard (the flood part below does).
            return MachineTokenVerifier(
                instances: [.init(environment: "production", api: api)], jwtVerifier: keys,
                cacheTTLSeconds: ttl, negativeTTLSeconds: ttl, lookupsPerSecond: 1_000_000)
        }
        func check(_ v: MachineTokenVerifier, _ tally: inout Tally) {
            do {
                let identity = try v.verify(token, type: ClerkTokenType.detect(token), nowMs: Clock.nowMs())
                tally.record(identity.subject == subject, else: "wrong subject")
            } catch {
                tally.fail(error.reason)
            }
        }
        let cached = try verifier(ttl: 60)
        var warm = Tally("machine warm-up checks")
        for _ in 0..<1000 { check(cached, &warm) }
        var cachedTally = Tally("machine cached checks")
        f.cachedNs = best(rounds, cachedN) { check(cached, &cachedTally) }
        let uncached = try verifier(ttl: 0)
        for _ in 0..<200 { check(uncached, &warm) }
        var uncachedTally = Tally("machine uncached checks")
        f.uncachedNs = best(rounds, callsN) { check(uncached, &uncachedTally) }
        warm.require(1200)
        cachedTally.require(rounds * cachedN)
        uncachedTally.require(rounds * callsN)
        Tally.expect(
            "machine uncached checks reached the stand-in", standIn.machineVerifyCalls >= 200 + rounds * callsN,
            "\(standIn.machineVerifyCalls) calls")
    }

    /// The floor (the same POST on one reused libcurl handle, nothing read from it; each must answer 200),
    /// the Backend API client's call alone, and the generic decoder this path does not use.
    static func roundTripParts(_ standIn: ClerkAPIStandIn, token: String, callsN: Int, rounds: Int, into f: inout Figures) throws {
        let client = try HTTPClient()
        let headers = [
            "Authorization: Bearer " + standIn.secretKey, "Clerk-API-Version: " + ClerkBackendAPI.apiVersion,
            "Accept: application/json", "User-Agent: clerk-functions", "Content-Type: application/json"
        ]
        let body = Array(("{\"secret\":" + JSONText.quoted(token) + "}").utf8)
        let url = standIn.baseURL + "/v1/api_keys/verify"
        func bare(_ tally: inout Tally) {
            do {
                let status = try client.send(method: "POST", url: url, headers: headers, body: body, timeoutMs: 3000, connectTimeoutMs: 1000).status
                tally.record(status == 200, else: "HTTP \(status)")
            } catch {
                tally.fail("\(error)")
            }
        }
        var warm = Tally("machine bare round trip warm-up")
        var bareTally = Tally("machine bare round trips answered 200")
        for _ in 0..<200 { bare(&warm) }
        warm.require(200)
        f.bareNs = best(rounds, callsN) { bare(&bareTally) }
        bareTally.require(rounds * callsN)

        let api = try ClerkBackendAPI(baseURL: standIn.baseURL, secretKey: standIn.secretKey)
        var answers: [[UInt8]] = []
        answers.reserveCapacity(rounds * callsN)
        var posts = Tally("machine Backend API client POSTs")
        f.apiNs = best(rounds, callsN) {
            do {
                answers.append(try api.post("/v1/api_keys/verify", json: body, deadlineMs: Clock.nowMs() + 3000))
                posts.pass()
            } catch {
                posts.fail("\(error)")
            }
        }
        posts.require(rounds * callsN)
        var decoded = Tally("machine answers decoded with the key's subject")
        var i = 0
        f.decoderNs = best(1, answers.count) {
            decoded.record((try? JSONValue.parse(answers[i]))?["subject"]?.stringValue == subject, else: "not the key's answer")
            i += 1
        }
        decoded.require(answers.count)
    }

    /// What telling the type apart adds to every session-token check (header and payload decoded once more).
    static func detectPart(cachedN: Int, rounds: Int, into f: inout Figures) throws {
        let devKey = try DevelopmentKey(keyId: "ins_2Y7xK3mN8pQ4rS6tV1wZ9bC5dFh")
        let session = try devKey.sign(
            payloadJSON: DevelopmentKey.sessionClaims(
                subject: "user_2Zs8PqLwX4nT6kVb9cRj1mHdYeF", issuer: "https://clerk.example.com", now: Clock.nowSeconds(), ttl: 3600,
                authorizedParty: "https://app.example.com"))
        f.sessionBytes = session.utf8.count
        var detected = Tally("machine session tokens detected as session tokens")
        f.detectNs = best(rounds, cachedN) { detected.record(ClerkTokenType.detect(session) == .sessionToken, else: "another type") }
        detected.require(rounds * cachedN)
    }
}
