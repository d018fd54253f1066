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
enum MachineTokenBenchmark {
    static func run(_ options: BenchOptions) {
        let cachedN = options.int("iterations", 200_000)
        let callsN = options.int("calls", 2_000)
        let rounds = options.int("rounds", 3)
        do {
            let standIn = try ClerkAPIStandIn()
            let token = "ak_live_" + Base64.encode(Crypto.randomBytes(24), url: true)
            standIn.addMachineToken(.apiKey, token: token, subject: "org_2b1M4kQz8RtY6wXc3nVp7LsJfGa", scopes: ["read", "write"],
                                    claims: #"{"team":"bench"}"#)
            let keys = JWKSCache(source: .remote(url: "memory://unused", headers: []), fetcher: { _, _, _ in [] }, logger: Logger(level: .error))
            let sessionKeys = TokenVerifier(instances: [.init(issuer: nil, environment: "production", keys: keys)])
            func verifier(ttl: Int) throws -> MachineTokenVerifier {
                let api = try ClerkBackendAPI(baseURL: standIn.baseURL, secretKey: standIn.secretKey)
                // No caps: this part measures a call, not the flood guard (the flood part below does).
                return MachineTokenVerifier(instances: [.init(environment: "production", api: api)], jwtVerifier: sessionKeys,
                                            cacheTTLSeconds: ttl, negativeTTLSeconds: ttl, lookupsPerSecond: 1_000_000)
            }
            var ok = 0
            func check(_ v: MachineTokenVerifier) {
                let type = ClerkTokenType.detect(token)
                if (try? v.verify(token, type: type, nowMs: Clock.nowMs())) != nil { ok += 1 }
            }

            let cached = try verifier(ttl: 60)
            for _ in 0..<1000 { check(cached) }
            var cachedNs = Double.infinity
            for _ in 0..<rounds {
                let t0 = Clock.monotonicNs()
                for _ in 0..<cachedN { check(cached) }
                cachedNs = min(cachedNs, Double(Clock.monotonicNs() - t0) / Double(cachedN))
            }

            let uncached = try verifier(ttl: 0)
            for _ in 0..<200 { check(uncached) }
            var uncachedNs = Double.infinity
            for _ in 0..<rounds {
                let t0 = Clock.monotonicNs()
                for _ in 0..<callsN { check(uncached) }
                uncachedNs = min(uncachedNs, Double(Clock.monotonicNs() - t0) / Double(callsN))
            }

            // The floor: the same POST (headers and body) on one reused libcurl handle, nothing read from it.
            let client = try HTTPClient()
            let headers = ["Authorization: Bearer " + standIn.secretKey, "Clerk-API-Version: " + ClerkBackendAPI.apiVersion,
                           "Accept: application/json", "User-Agent: clerk-functions", "Content-Type: application/json"]
            let body = Array(("{\"secret\":" + JSONText.quoted(token) + "}").utf8)
            let url = standIn.baseURL + "/v1/api_keys/verify"
            func bare() { if (try? client.send(method: "POST", url: url, headers: headers, body: body, timeoutMs: 3000, connectTimeoutMs: 1000))?.status == 200 { ok += 1 } }
            for _ in 0..<200 { bare() }
            var bareNs = Double.infinity
            for _ in 0..<rounds {
                let t0 = Clock.monotonicNs()
                for _ in 0..<callsN { bare() }
                bareNs = min(bareNs, Double(Clock.monotonicNs() - t0) / Double(callsN))
            }

            // Where the difference goes: the Backend API client's call alone.
            let api = try ClerkBackendAPI(baseURL: standIn.baseURL, secretKey: standIn.secretKey)
            var answer: [UInt8] = []
            var apiNs = Double.infinity
            for _ in 0..<rounds {
                let t0 = Clock.monotonicNs()
                for _ in 0..<callsN { answer = (try? api.post("/v1/api_keys/verify", json: body, deadlineMs: Clock.nowMs() + 3000)) ?? [] }
                apiNs = min(apiNs, Double(Clock.monotonicNs() - t0) / Double(callsN))
            }
            // The generic decoder this path does not use (it cost as much as the round trip), for comparison.
            let t1 = Clock.monotonicNs()
            for _ in 0..<callsN { if (try? JSONValue.parse(answer)) != nil { ok += 1 } }
            let decoderNs = Double(Clock.monotonicNs() - t1) / Double(callsN)

            // What telling the type apart adds to every session-token check (header and payload decoded once more).
            let devKey = try DevelopmentKey(keyId: "ins_2Y7xK3mN8pQ4rS6tV1wZ9bC5dFh")
            let session = try devKey.sign(payloadJSON: DevelopmentKey.sessionClaims(
                subject: "user_2Zs8PqLwX4nT6kVb9cRj1mHdYeF", issuer: "https://clerk.example.com", now: Clock.nowSeconds(), ttl: 3600,
                authorizedParty: "https://app.example.com"))
            var detectNs = Double.infinity
            for _ in 0..<rounds {
                let t0 = Clock.monotonicNs()
                for _ in 0..<cachedN { if ClerkTokenType.detect(session) == .sessionToken { ok += 1 } }
                detectNs = min(detectNs, Double(Clock.monotonicNs() - t0) / Double(cachedN))
            }

            let load = ((try? FileIO.readText("/proc/loadavg")) ?? "?").split(separator: " ").prefix(3).joined(separator: " ")
            print("machine-token checks, opaque API key, best of \(rounds) rounds (\(ok) ok; load average \(load)):")
            print("  cached (detect type, SHA-256, cache lookup), \(cachedN) checks:        \(fmt(cachedNs / 1000, 2)) us, \(fmt(1e9 / cachedNs, 0))/s")
            print("  uncached (one POST /v1/api_keys/verify to the stand-in), \(callsN) checks: \(fmt(uncachedNs / 1000, 1)) us")
            print("  bare libcurl round trip, same request to the same stand-in:         \(fmt(bareNs / 1000, 1)) us")
            print("  uncached minus bare round trip:                                      \(fmt((uncachedNs - bareNs) / 1000, 1)) us")
            print("    of which the Backend API client's POST alone:                     \(fmt(apiNs / 1000, 1)) us")
            print("  (Clerk's answer through the generic JSONDecoder instead, not used:  \(fmt(decoderNs / 1000, 1)) us)")
            print("  type detection of a \(session.utf8.count)-byte session token (added to each session check): \(fmt(detectNs / 1000, 2)) us")
            try runFlood(options, keys: sessionKeys)
            print("RESULT machine cached_us=\(fmt(cachedNs / 1000, 2)) uncached_us=\(fmt(uncachedNs / 1000, 1)) bare_round_trip_us=\(fmt(bareNs / 1000, 1))")
        } catch {
            print("machine benchmark failed: \(error)")
            exit(1)
        }
    }
}
