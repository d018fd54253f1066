import Synchronization

/// A warm container's budget of uncached machine-token lookups at Clerk.
///
/// Every unknown `ak_`/`mt_`/`oat_` string misses the caches and costs a billed Backend API call, and the
/// instance's rate limit (1,000 requests / 10 s in production) is shared with the just-in-time user fill and
/// the backfill. So: at most `lookupsPerSecond` calls per second (a bucket that holds one second's worth),
/// at most `maxConcurrentLookups` distinct tokens being looked up at once (a check of a token already being
/// looked up joins that lookup), and after a 429 no call at all until Clerk's `Retry-After` has passed.
/// Whatever is refused fails fast with a retryable error and is never remembered as the token's verdict.
/// Time is the caller's `nowMs`, so tests drive it without sleeping.
final class MachineTokenThrottle: Sendable {
    private struct State {
        /// Tokens being looked up, each with the number of checks waiting for its answer.
        var inProgress: [TokenDigest: Int] = [:]
        /// The bucket, in thousandths of a call.
        var milliCalls: Int64
        var refilledAtMs: Int64?
        /// No call before this time (Clerk's `Retry-After`).
        var quietUntilMs: Int64 = 0
    }

    private let state: Mutex<State>
    /// Calls per second (and the bucket's size).
    let lookupsPerSecond: Int
    /// Distinct tokens looked up at once.
    let maxConcurrentLookups: Int
    /// The longest wait a `Retry-After` imposes (Clerk's window is 10 s; a larger value is not trusted).
    static let maxQuietSeconds = 60

    init(lookupsPerSecond: Int, maxConcurrentLookups: Int) {
        // Bounded so that the bucket arithmetic below cannot overflow whatever a caller passes.
        self.lookupsPerSecond = min(max(lookupsPerSecond, 1), 1_000_000)
        self.maxConcurrentLookups = min(max(maxConcurrentLookups, 1), 1_000_000)
        state = Mutex(State(milliCalls: Int64(self.lookupsPerSecond) * 1000))
    }

    /// Distinct tokens being looked up now (tests, the benchmark).
    var inProgress: Int { state.withLock { $0.inProgress.count } }

    /// Starts a lookup of `key`: refused while Clerk asked us to wait, or when `maxConcurrentLookups` other
    /// tokens are being looked up. Each successful `enter` needs one `leave`.
    func enter(_ key: TokenDigest, nowMs: Int64) throws(MachineTokenError) {
        let refusal: MachineTokenError? = state.withLock { s in
            if nowMs < s.quietUntilMs { return Self.quiet(s, nowMs: nowMs) }
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
    func takeCall(nowMs: Int64) throws(MachineTokenError) {
        let refusal: MachineTokenError? = state.withLock { s in
            if nowMs < s.quietUntilMs { return Self.quiet(s, nowMs: nowMs) }
            let full = Int64(lookupsPerSecond) * 1000
            if let last = s.refilledAtMs {
                // A second refills the bucket: a longer gap adds nothing (and cannot overflow).
                let elapsed = min(max(nowMs &- last, 0), 1000)
                s.milliCalls = min(full, s.milliCalls + elapsed * Int64(lookupsPerSecond))
            }
            if s.refilledAtMs.map({ nowMs > $0 }) ?? true { s.refilledAtMs = nowMs }
            guard s.milliCalls >= 1000 else { return .lookupsThrottled("over \(lookupsPerSecond) uncached lookups per second") }
            s.milliCalls -= 1000
            return nil
        }
        if let refusal { throw refusal }
    }

    /// Clerk answered 429: no call for `seconds` (at least 1, at most `maxQuietSeconds`) from `nowMs`.
    func quiet(forSeconds seconds: Int, nowMs: Int64) {
        let ms = Int64(min(max(seconds, 1), Self.maxQuietSeconds)) * 1000
        let (until, overflow) = nowMs.addingReportingOverflow(ms)
        state.withLock { s in s.quietUntilMs = max(s.quietUntilMs, overflow ? .max : until) }
    }

    private static func quiet(_ s: State, nowMs: Int64) -> MachineTokenError {
        // Whole seconds left, rounded up: what a caller would put in its own Retry-After.
        let left = min(s.quietUntilMs &- nowMs, Int64(maxQuietSeconds) * 1000)
        return .clerkRateLimited(retryAfterSeconds: Int(min((left + 999) / 1000, Int64(maxQuietSeconds))))
    }
}
