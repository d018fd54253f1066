import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A warm container's budget of uncached machine-token lookups at Clerk.
///
/// Every unknown `ak_`/`mt_`/`oat_` string misses the caches and costs a billed Backend API call, and the
/// instance's rate limit (1,000 requests / 10 s in production) is shared with the just-in-time user fill and
/// the backfill. So: at most `lookupsPerSecond` calls per second (a bucket that holds one second's worth),
/// at most `maxConcurrentLookups` distinct tokens being looked up at once (a check of a token already being
/// looked up joins that lookup), and after a 429 no call at all until Clerk's `Retry-After` has passed.
/// Whatever is refused fails fast with a retryable error and is never remembered as the token's verdict.
/// Time is the throttle's own monotonic clock, read under its lock: a wall clock stepped back (an NTP
/// correction, a restored snapshot) would otherwise hold back refills and stretch a `Retry-After`, and a
/// time read before waiting for a lock would be stale. Tests inject the clock.
final class MachineTokenThrottle: Sendable {
    /// Milliseconds on a clock that never steps back; only differences between readings mean anything.
    typealias MonotonicClock = @Sendable () -> Int64

    private struct State {
        /// Tokens being looked up, each with the number of checks waiting for its answer.
        var inProgress: [TokenDigest: Int] = [:]
        /// The bucket, in thousandths of a call.
        var milliCalls: Int64
        var refilledAtMs: Int64?
        /// Clerk's last `Retry-After`: no call for `quietMs` from `quietFromMs` (both on the monotonic clock).
        var quietFromMs: Int64 = 0
        var quietMs: Int64 = 0
    }

    private let state: Mutex<State>
    private let clock: MonotonicClock
    /// Calls per second (and the bucket's size).
    let lookupsPerSecond: Int
    /// Distinct tokens looked up at once.
    let maxConcurrentLookups: Int
    /// The longest wait a `Retry-After` imposes (Clerk's window is 10 s; a larger value is not trusted).
    static let maxQuietSeconds = 60

    init(lookupsPerSecond: Int, maxConcurrentLookups: Int, clock: @escaping MonotonicClock = MachineTokenThrottle.monotonicMs) {
        // Bounded so that the bucket arithmetic below cannot overflow whatever a caller passes.
        self.lookupsPerSecond = min(max(lookupsPerSecond, 1), 1_000_000)
        self.maxConcurrentLookups = min(max(maxConcurrentLookups, 1), 1_000_000)
        self.clock = clock
        state = Mutex(State(milliCalls: Int64(self.lookupsPerSecond) * 1000))
    }

    /// `CLOCK_MONOTONIC` in milliseconds: never set, never stepped.
    @Sendable static func monotonicMs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    /// Distinct tokens being looked up now (tests, the benchmark).
    var inProgress: Int { state.withLock { $0.inProgress.count } }

    /// Starts a lookup of `key`: refused while Clerk asked us to wait, or when `maxConcurrentLookups` other
    /// tokens are being looked up. Each successful `enter` needs one `leave`.
    func enter(_ key: TokenDigest) throws(MachineTokenError) {
        let refusal: MachineTokenError? = state.withLock { s in
            if let quiet = Self.quietLeft(s, nowMs: clock()) { return quiet }
            if let waiting = s.inProgress[key] {
                s.inProgress[key] = waiting + 1
                return nil
            }
            guard s.inProgress.count < maxConcurrentLookups else {
                return .lookupsThrottled("\(maxConcurrentLookups) uncached lookups already in progress")
            }
            s.inProgress[key] = 1
            return nil
        }
        if let refusal { throw refusal }
    }

    /// Ends one check's part in the lookup of `key`.
    func leave(_ key: TokenDigest) {
        state.withLock { s in
            guard let waiting = s.inProgress[key] else { return }
            s.inProgress[key] = waiting > 1 ? waiting - 1 : nil
        }
    }

    /// Takes one Backend API call from the budget, just before it is made: refused while Clerk asked us to
    /// wait (a 429 may have come in while this lookup queued) or when this second's calls are spent.
    func takeCall() throws(MachineTokenError) {
        let refusal: MachineTokenError? = state.withLock { s in
            let nowMs = clock()
            if let quiet = Self.quietLeft(s, nowMs: nowMs) { return quiet }
            let full = Int64(lookupsPerSecond) * 1000
            if let last = s.refilledAtMs {
                // A second refills the bucket: a longer gap adds nothing (and cannot overflow); a clock that
                // went back (an injected one: the monotonic clock does not) adds nothing and restarts from here.
                let elapsed = min(max(nowMs &- last, 0), 1000)
                s.milliCalls = min(full, s.milliCalls + elapsed * Int64(lookupsPerSecond))
            }
            s.refilledAtMs = nowMs
            guard s.milliCalls >= 1000 else { return .lookupsThrottled("over \(lookupsPerSecond) uncached lookups per second") }
            s.milliCalls -= 1000
            return nil
        }
        if let refusal { throw refusal }
    }

    /// Clerk answered 429: no call for `seconds` (at least 1, at most `maxQuietSeconds`) from now. A later
    /// 429 restarts the wait unless the current one ends later.
    func quiet(forSeconds seconds: Int) {
        let ms = Int64(min(max(seconds, 1), Self.maxQuietSeconds)) * 1000
        state.withLock { s in
            let nowMs = clock()
            let left = Self.quietLeftMs(s, nowMs: nowMs)
            if ms >= left {
                s.quietFromMs = nowMs
                s.quietMs = ms
            }
        }
    }

    /// Milliseconds of Clerk's wait still to run: never more than `maxQuietSeconds`, and none once the clock
    /// reads before the wait began (only an injected clock can), so no reading of the clock prolongs it.
    private static func quietLeftMs(_ s: State, nowMs: Int64) -> Int64 {
        let elapsed = nowMs &- s.quietFromMs
        guard elapsed >= 0, elapsed < s.quietMs else { return 0 }
        return min(s.quietMs - elapsed, Int64(maxQuietSeconds) * 1000)
    }

    private static func quietLeft(_ s: State, nowMs: Int64) -> MachineTokenError? {
        let left = quietLeftMs(s, nowMs: nowMs)
        guard left > 0 else { return nil }
        // Whole seconds left, rounded up: what a caller would put in its own Retry-After.
        return .clerkRateLimited(retryAfterSeconds: Int((left + 999) / 1000))
    }
}
