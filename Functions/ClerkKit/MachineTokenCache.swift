import Synchronization

/// The SHA-256 of a token: the only form in which a machine token is remembered, so a cache dump, a key
/// in a log or a heap snapshot never shows a usable credential.
struct TokenDigest: Hashable, Sendable {
    private let a: UInt64, b: UInt64, c: UInt64, d: UInt64

    init(_ token: String) {
        let digest = Crypto.sha256(Array(token.utf8)).bytes
        (a, b, c, d) = digest
    }
}

/// Clerk's verdicts on opaque machine tokens, kept for a warm container: answers that passed until their
/// time is up, refusals (unknown, revoked, expired) for a shorter time. Two maps, each bounded: a flood of
/// made-up tokens fills the refusals and can only empty those, never push out the tokens that passed.
final class MachineTokenCache: Sendable {
    /// What Clerk said.
    enum Verdict: Sendable {
        case valid(MachineIdentity)
        case refused(MachineTokenError)
    }

    private struct Entry {
        let verdict: Verdict
        let untilMs: Int64
    }

    private struct State {
        var valid: [TokenDigest: Entry] = [:]
        var refused: [TokenDigest: Entry] = [:]
    }

    private let state = Mutex(State())
    /// The most entries each map holds.
    let maxEntries: Int

    init(maxEntries: Int) { self.maxEntries = max(1, maxEntries) }

    /// The remembered verdict, if it is still good at `nowMs`.
    func lookUp(_ key: TokenDigest, nowMs: Int64) -> Verdict? {
        state.withLock { s -> Verdict? in
            if let e = s.valid[key] {
                if nowMs < e.untilMs { return e.verdict }
                s.valid[key] = nil
            }
            if let e = s.refused[key] {
                if nowMs < e.untilMs { return e.verdict }
                s.refused[key] = nil
            }
            return nil
        }
    }

    /// Remembers `verdict` until `untilMs` (nothing when that is not in the future).
    func store(_ key: TokenDigest, _ verdict: Verdict, untilMs: Int64, nowMs: Int64) {
        guard untilMs > nowMs else { return }
        let entry = Entry(verdict: verdict, untilMs: untilMs)
        state.withLock { s in
            switch verdict {
            case .valid:
                s.refused[key] = nil
                Self.insert(&s.valid, key, entry, nowMs: nowMs, max: maxEntries)
            case .refused:
                s.valid[key] = nil
                Self.insert(&s.refused, key, entry, nowMs: nowMs, max: maxEntries)
            }
        }
    }

    /// How many entries each map holds (tests, the benchmark).
    var counts: (valid: Int, refused: Int) { state.withLock { ($0.valid.count, $0.refused.count) } }

    /// A full map first drops what has expired; still full, it starts over (a sweep per `max` insertions,
    /// so the cost stays constant per insertion, and the size never exceeds `max`).
    private static func insert(_ map: inout [TokenDigest: Entry], _ key: TokenDigest, _ entry: Entry, nowMs: Int64, max: Int) {
        if map.count >= max && map[key] == nil {
            map = map.filter { $0.value.untilMs > nowMs }
            if map.count >= max { map.removeAll(keepingCapacity: true) }
        }
        map[key] = entry
    }
}
