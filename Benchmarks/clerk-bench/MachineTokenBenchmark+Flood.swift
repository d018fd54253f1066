import ClerkKit
import ClerkStandIn
import LambdaRuntime

#if canImport(Glibc)
    import Glibc
#endif

/// `bench-machine`, flood part: random opaque tokens (each one a cache miss) through one verifier against the
/// Backend API stand-in, as a flood of junk through API Gateway reaches one warm container. Counts the
/// requests that reached the stand-in and what a real cached and a real uncached token got meanwhile.
extension MachineTokenBenchmark {
    /// One scenario's figures.
    struct Flood {
        var calls = 0
        var seconds = 0.0
        var junk: [String: Int] = [:]
        var cached: [String: Int] = [:]
        var uncached: [String: Int] = [:]
    }

    /// `tokens` junk keys at `perSecond` (0: as fast as they come); every `every`th one is followed by a check
    /// of a real cached key and of a real key never seen before.
    static func flood(
        _ standIn: ClerkAPIStandIn, keys: TokenVerifier, lookupsPerSecond: Int, maxConcurrent: Int, cue429: Bool,
        tokens: Int, perSecond: Int, every: Int = 100
    ) throws -> Flood {
        let api = try ClerkBackendAPI(baseURL: standIn.baseURL, secretKey: standIn.secretKey)
        let verifier = MachineTokenVerifier(
            instances: [.init(environment: "production", api: api)], jwtVerifier: keys,
            lookupsPerSecond: lookupsPerSecond, maxConcurrentLookups: maxConcurrent)
        func key() -> String { "ak_" + Base64.encode(Crypto.randomBytes(32)) }  // Clerk's shape: 44 characters of base64, one `=`
        var subjects: [String: String] = [:]
        func outcome(_ token: String) -> String {
            do {
                let identity = try verifier.verify(token, type: .apiKey, nowMs: Clock.nowMs())
                return identity.subject == subjects[token] ? "passed" : "passed with another subject"
            } catch {
                return error.reason
            }
        }
        let cached = key()
        standIn.addMachineToken(.apiKey, token: cached, subject: "org_bench_cached")
        subjects[cached] = "org_bench_cached"
        let fresh = (0..<(tokens / every + 1)).map { _ in key() }
        for token in fresh {
            standIn.addMachineToken(.apiKey, token: token, subject: "org_bench_fresh")
            subjects[token] = "org_bench_fresh"
        }
        _ = outcome(cached)
        let junk = (0..<tokens).map { _ in key() }
        var result = Flood()
        let before = standIn.machineVerifyCalls
        if cue429 { standIn.cue(429, retryAfter: "1") }
        let t0 = Clock.monotonicNs()
        for (i, token) in junk.enumerated() {
            if perSecond > 0 {
                let due = t0 + UInt64(i) * 1_000_000_000 / UInt64(perSecond)
                let now = Clock.monotonicNs()
                if due > now { usleep(UInt32(min((due - now) / 1000, 1_000_000))) }
            }
            result.junk[outcome(token), default: 0] += 1
            if i % every == 0 {
                result.cached[outcome(cached), default: 0] += 1
                result.uncached[outcome(fresh[i / every]), default: 0] += 1
            }
        }
        result.seconds = Double(Clock.monotonicNs() - t0) / 1e9
        result.calls = standIn.machineVerifyCalls - before
        standIn.clearCues()
        return result
    }

    /// Prints the three scenarios: no caps, the default caps, the default caps with Clerk answering 429.
    static func runFlood(_ options: BenchOptions, keys: TokenVerifier) throws {
        let n = options.int("flood", 10_000)
        let rate = options.int("flood-rate", 5_000)
        func line(_ label: String, _ f: Flood) {
            func counts(_ d: [String: Int]) -> String { d.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") }
            print("  \(label): \(f.calls) calls to the stand-in in \(fmt(f.seconds, 2)) s")
            print("    junk: \(counts(f.junk)); real cached key: \(counts(f.cached)); real uncached key: \(counts(f.uncached))")
        }
        print("flood: \(n) random ak_ keys through one container, a real cached and a real uncached key checked every 100:")
        let off = try flood(
            try ClerkAPIStandIn(), keys: keys, lookupsPerSecond: 1_000_000, maxConcurrent: 1_000_000, cue429: false,
            tokens: n, perSecond: 0)
        line("no caps, as fast as they come (what every flood cost before)", off)
        off.require("machine_flood no caps", tokens: n, junk: ["token_invalid"], uncached: ["passed"])
        let capped = try flood(
            try ClerkAPIStandIn(), keys: keys, lookupsPerSecond: MachineTokenVerifier.defaultLookupsPerSecond,
            maxConcurrent: MachineTokenVerifier.defaultMaxConcurrentLookups, cue429: false, tokens: n, perSecond: rate)
        line("default caps (\(MachineTokenVerifier.defaultLookupsPerSecond)/s), \(rate) keys/s", capped)
        capped.require(
            "machine_flood default caps", tokens: n, junk: ["token_invalid", "lookups_throttled"],
            uncached: ["passed", "lookups_throttled"])
        let limited = try flood(
            try ClerkAPIStandIn(), keys: keys, lookupsPerSecond: MachineTokenVerifier.defaultLookupsPerSecond,
            maxConcurrent: MachineTokenVerifier.defaultMaxConcurrentLookups, cue429: true, tokens: n, perSecond: rate)
        line("default caps, Clerk answers the first call 429 (Retry-After: 1), \(rate) keys/s", limited)
        let limitedAnswers: Set<String> = ["lookups_throttled", "clerk_api_rate_limited"]
        limited.require(
            "machine_flood after a 429", tokens: n, junk: limitedAnswers.union(["token_invalid"]),
            uncached: limitedAnswers.union(["passed"]))
        print(
            "RESULT machine_flood calls_uncapped=\(off.calls) calls_capped=\(capped.calls) calls_after_429=\(limited.calls) "
                + "capped_seconds=\(fmt(capped.seconds, 2)) cached_passed=\(capped.cached["passed"] ?? 0)/\(capped.cached.values.reduce(0, +))")
    }
}

extension MachineTokenBenchmark.Flood {
    /// Every junk key refused with one of `junk`, the real cached key passed every check, the real uncached
    /// key answered one of `uncached` (the caps may refuse it, retryably, but never call it invalid).
    func require(_ label: String, tokens: Int, junk allowedJunk: Set<String>, uncached allowedUncached: Set<String>) {
        let checks = self.cached.values.reduce(0, +)
        Tally.expect("\(label) junk keys checked", junk.values.reduce(0, +), tokens)
        Tally.expect("\(label) junk keys refused as expected", junk.keys.allSatisfy(allowedJunk.contains), "\(junk)")
        Tally.expect("\(label) real cached key passed", self.cached["passed"] ?? 0, checks)
        Tally.expect("\(label) real uncached key checks", uncached.values.reduce(0, +), checks)
        Tally.expect("\(label) real uncached key answered as expected", uncached.keys.allSatisfy(allowedUncached.contains), "\(uncached)")
    }
}
