import JSON
import Synchronization

/// Verifies Clerk's machine credentials: opaque API keys (`ak_…`), M2M tokens (`mt_…`) and OAuth access
/// tokens (`oat_…`) through the Backend API's verify endpoints, and their JWT forms locally against the
/// instance's keys.
///
/// Clerk bills per verification and a gateway asks per request, so opaque answers are cached by the token's
/// SHA-256 (never the token): a token that passed until the sooner of its `expiration` and `cacheTTLSeconds`,
/// a refusal (unknown, revoked, expired: Clerk's 404 or its answer) for `negativeTTLSeconds`. Outages, a
/// refused secret key, a refused request (400, 422) and rate limits are never cached. Calls go one at a time
/// through one lock (a `ClerkBackendAPI` is one easy handle), and the cache is consulted again under it, so
/// concurrent first checks of one token in a warm container make one call. Uncached lookups are bounded
/// (`MachineTokenThrottle`, on its own monotonic clock): per second, at once, and not at all while Clerk's
/// `Retry-After` runs.
public final class MachineTokenVerifier: Sendable {
    /// A Backend API client and the environment of the instance it speaks for.
    public struct Client {
        /// `production` or `development`.
        public let environment: String
        /// The client (bearer: the instance's secret key, or the machine's for M2M tokens).
        public let api: ClerkBackendAPI

        /// Pairs a client with its environment.
        public init(environment: String, api: ClerkBackendAPI) {
            self.environment = environment
            self.api = api
        }
    }

    private struct Clients {
        var instances: [Client]
        var machine: Client?
        var calls = 0
    }

    private let clients: Mutex<Clients>
    private let cache: MachineTokenCache
    private let jwt: TokenVerifier
    private let positiveTTLMs: Int64
    private let negativeTTLMs: Int64
    private let callBudgetMs: Int64
    private let throttle: MachineTokenThrottle
    /// Entries of each cache map (10,000 by default: about 3 MB at most).
    public static let defaultMaxEntries = 10_000
    /// Uncached lookups (Backend API calls) per second per container, by default.
    public static let defaultLookupsPerSecond = 10
    /// Distinct tokens looked up at once per container, by default.
    public static let defaultMaxConcurrentLookups = 4

    /// `instances` verify every opaque type, tried in order (a 404 moves on to the next instance);
    /// `machine` (the `CLERK_MACHINE_SECRET_KEY` client), when given, verifies M2M tokens instead.
    /// `jwtVerifier` holds the instances' keys for the JWT forms.
    public convenience init(
        instances: sending [Client], machine: sending Client? = nil, jwtVerifier: TokenVerifier, cacheTTLSeconds: Int = 60,
        negativeTTLSeconds: Int = 10, callBudgetMs: Int = 3000, maxEntries: Int = MachineTokenVerifier.defaultMaxEntries,
        lookupsPerSecond: Int = MachineTokenVerifier.defaultLookupsPerSecond,
        maxConcurrentLookups: Int = MachineTokenVerifier.defaultMaxConcurrentLookups
    ) {
        self.init(
            instances: instances, machine: machine, jwtVerifier: jwtVerifier, cacheTTLSeconds: cacheTTLSeconds,
            negativeTTLSeconds: negativeTTLSeconds, callBudgetMs: callBudgetMs, maxEntries: maxEntries,
            lookupsPerSecond: lookupsPerSecond, maxConcurrentLookups: maxConcurrentLookups, clock: MachineTokenThrottle.monotonicMs)
    }

    /// As above, with the throttle's monotonic clock given (tests step it; the caches keep the caller's `nowMs`).
    init(
        instances: sending [Client], machine: sending Client? = nil, jwtVerifier: TokenVerifier, cacheTTLSeconds: Int = 60,
        negativeTTLSeconds: Int = 10, callBudgetMs: Int = 3000, maxEntries: Int = MachineTokenVerifier.defaultMaxEntries,
        lookupsPerSecond: Int = MachineTokenVerifier.defaultLookupsPerSecond,
        maxConcurrentLookups: Int = MachineTokenVerifier.defaultMaxConcurrentLookups, clock: @escaping MachineTokenThrottle.MonotonicClock
    ) {
        clients = Mutex(Clients(instances: instances, machine: machine))
        cache = MachineTokenCache(maxEntries: maxEntries)
        jwt = jwtVerifier
        // Bounded (a day) so that `* 1000` and `now + ttl` cannot overflow whatever a variable says.
        func ms(_ seconds: Int) -> Int64 { Int64(min(max(seconds, 0), 86_400)) * 1000 }
        positiveTTLMs = ms(cacheTTLSeconds)
        negativeTTLMs = ms(negativeTTLSeconds)
        self.callBudgetMs = Int64(min(max(callBudgetMs, 200), 30_000))
        throttle = MachineTokenThrottle(lookupsPerSecond: lookupsPerSecond, maxConcurrentLookups: maxConcurrentLookups, clock: clock)
    }

    /// The cap on uncached lookups per second.
    public var lookupsPerSecond: Int { throttle.lookupsPerSecond }
    /// The cap on distinct tokens looked up at once.
    public var maxConcurrentLookups: Int { throttle.maxConcurrentLookups }
    /// Distinct tokens being looked up at Clerk now (tests, the benchmark).
    public var lookupsInProgress: Int { throttle.inProgress }

    /// Backend API calls made so far (tests, the benchmark).
    public var apiCalls: Int { clients.withLock { $0.calls } }
    /// Entries in the two caches (tests, the benchmark).
    public var cachedCounts: (valid: Int, refused: Int) { cache.counts }

    /// Verifies `token`, already detected as `type` (not a session token), at `nowMs` (epoch ms).
    public func verify(_ token: String, type: ClerkTokenType, nowMs: Int64) throws(MachineTokenError) -> MachineIdentity {
        guard type != .sessionToken else { throw .jwt(.malformed("a session token, not a machine token")) }
        guard ClerkTokenType.isOpaque(token) else {
            do {
                return try jwt.verifyMachine(token, type: type, nowMs: nowMs)
            } catch {
                throw .jwt(error)
            }
        }
        // What cannot occur in a token Clerk issues: no call (and no bill).
        guard Self.isPlausibleOpaque(token) else { throw .invalid }
        let key = TokenDigest(token)
        if let verdict = cache.lookUp(key, nowMs: nowMs) { return try Self.unwrap(verdict) }
        // Past the caches every check costs a billed call against the instance's rate limit: bounded here.
        try throttle.enter(key)
        defer { throttle.leave(key) }
        let verdict: MachineTokenCache.Verdict = clients.withLock { c in
            // Someone may have asked while this caller waited for the lock.
            if let again = cache.lookUp(key, nowMs: nowMs) { return again }
            let answer = call(token, type: type, clients: &c, nowMs: nowMs)
            switch answer {
            case .valid(let identity):
                let until = min(identity.expiresAtMs ?? .max, nowMs + positiveTTLMs)
                cache.store(key, answer, untilMs: until, nowMs: nowMs)
            case .refused(let error) where error.isCacheable:
                cache.store(key, answer, untilMs: nowMs + negativeTTLMs, nowMs: nowMs)
            case .refused:
                break
            }
            return answer
        }
        return try Self.unwrap(verdict)
    }

    private static func unwrap(_ verdict: MachineTokenCache.Verdict) throws(MachineTokenError) -> MachineIdentity {
        switch verdict {
        case .valid(let identity): return identity
        case .refused(let error): throw error
        }
    }

    /// 8 to 512 bytes of visible ASCII without quotes or backslash. Clerk's SDK tells machine tokens by their
    /// prefix alone and Clerk's own fixture key is standard base64 (`+`, `/`, `=`), so the alphabet is not
    /// narrowed further: this only spares a billed call for what cannot be a token (whitespace, control
    /// characters, quotes, non-ASCII, a length no token has).
    static func isPlausibleOpaque(_ token: String) -> Bool {
        let bytes = token.utf8
        return bytes.count >= 8 && bytes.count <= 512
            && bytes.allSatisfy { c in
                c > 0x20 && c < 0x7F && c != 0x22 && c != 0x27 && c != 0x60 && c != 0x5C
            }
    }

    /// One verification at Clerk: the endpoint and body of `type`, each instance in turn until one knows it.
    private func call(_ token: String, type: ClerkTokenType, clients c: inout Clients, nowMs: Int64) -> MachineTokenCache.Verdict {
        let path: String
        let field: String
        var candidates = c.instances
        switch type {
        case .apiKey: (path, field) = ("/v1/api_keys/verify", "secret")
        case .m2mToken:
            (path, field) = ("/v1/m2m_tokens/verify", "token")
            if let machine = c.machine { candidates = [machine] }
        case .oauthToken: (path, field) = ("/v1/oauth_applications/access_tokens/verify", "access_token")
        case .sessionToken: return .refused(.invalid)
        }
        guard !candidates.isEmpty else { return .refused(.clerkUnavailable("no secret key is configured")) }
        let body = Array(("{\"\(field)\":" + JSONText.quoted(token) + "}").utf8)
        let deadline = ClerkBackendAPI.nowMs() + callBudgetMs
        for client in candidates {
            do throws(MachineTokenError) {
                try throttle.takeCall()
            } catch {
                return .refused(error)
            }
            c.calls += 1
            do throws(ClerkAPIError) {
                let answer = try client.api.post(path, json: body, deadlineMs: deadline, waitsOutRateLimit: false)
                return Self.read(answer, type: type, environment: client.environment, nowMs: nowMs)
            } catch {
                if case .notFound = error { continue }  // perhaps the other instance's token
                return .refused(failure(error))
            }
        }
        return .refused(.invalid)
    }

    /// What a failed call means. Only a 404 (above) or Clerk's answer says anything about the token
    /// (Clerk's spec documents 404 as "not found"; its SDK maps every other status to an unexpected error):
    /// a 400 or 422 refuses our request (an API version, a body shape), not the caller's token.
    private func failure(_ error: ClerkAPIError) -> MachineTokenError {
        switch error {
        case .notFound: return .invalid
        case .unauthorized: return .clerkUnauthorized
        case .rejected(let status, let code): return .clerkRejected(status: status, code: code)
        case .rateLimited(let seconds):
            throttle.quiet(forSeconds: seconds)
            return .clerkRateLimited(retryAfterSeconds: min(max(seconds, 1), MachineTokenThrottle.maxQuietSeconds))
        case .unavailable(let why): return .clerkUnavailable(why)
        case .malformedResponse(let why): return .clerkUnavailable(why)
        }
    }

    /// Clerk's APIKeyJSON, M2MTokenJSON or OAuth access token JSON, read strictly: an answer without a
    /// subject, or with fields of the wrong type, is Clerk's failure (the authorizer errs), not a pass.
    static func read(_ body: [UInt8], type: ClerkTokenType, environment: String, nowMs: Int64) -> MachineTokenCache.Verdict {
        guard let json = try? JSONValue.parseStrict(body), case .object(let o) = json else {
            return .refused(.clerkUnavailable("the verify answer is not a JSON object"))
        }
        func flag(_ name: String) -> Bool? {
            switch o[name] {
            case nil, .null: false
            case .bool(let b): b
            default: nil
            }
        }
        guard let revoked = flag("revoked"), let expired = flag("expired") else {
            return .refused(.clerkUnavailable("revoked/expired are not booleans"))
        }
        if revoked { return .refused(.revoked) }
        if expired { return .refused(.expired) }
        var expiresAtMs: Int64?
        switch o["expiration"] {
        case nil, .null: break
        // A whole number of milliseconds only: a fraction is not truncated into another time.
        case .number(let d) where d.isFinite && abs(d) < 9e15 && Double(Int64(d)) == d: expiresAtMs = Int64(d)
        default: return .refused(.clerkUnavailable("expiration is not a time"))
        }
        if let expiresAtMs, expiresAtMs <= nowMs { return .refused(.expired) }
        guard let subject = o["subject"]?.stringValue, !subject.isEmpty else {
            return .refused(.clerkUnavailable("the verify answer has no subject"))
        }
        var scopes: [String] = []
        switch o["scopes"] {
        case nil, .null: break
        case .array(let items):
            for item in items {
                guard let s = item.stringValue else { return .refused(.clerkUnavailable("scopes are not strings")) }
                scopes.append(s)
            }
        default: return .refused(.clerkUnavailable("scopes is not a list"))
        }
        let clientId = type == .oauthToken ? o["client_id"]?.stringValue : nil
        return .valid(
            MachineIdentity(
                tokenType: type, subject: subject, scopes: scopes, clientId: clientId,
                claims: o["claims"] ?? .null, environment: environment, expiresAtMs: expiresAtMs))
    }
}
