import ClerkKit
import JSON
import LambdaRuntime
import Store
import Synchronization

/// Asks Clerk's Backend API about users the database does not know yet (a token arrived before the
/// webhook): `GET /v1/users/{id}` fills the just-in-time row with the profile, and a 404 means the user
/// does not exist. Answers are kept for the warm container (`ttlMs`), so a burst of requests from a new
/// user, or a token of a user Clerk no longer has, costs one call.
final class ClerkUserDirectory: Sendable {
    /// What Clerk said about a user.
    enum Answer: Sendable {
        case found(ClerkUser, json: String)
        case notFound
        /// The API could not answer (outage, rate limit, our key): fall back to a minimal row.
        case unavailable(ClerkAPIError)
    }

    private struct State {
        var clients: [String: ClerkBackendAPI]
        var answers: [String: (answer: Answer, atMs: Int64)] = [:]
    }

    private let state: Mutex<State>
    private let ttlMs: Int64
    private static let maxEntries = 10_000
    /// One call never takes more than this of a token check.
    private static let callBudgetMs: Int64 = 2000

    /// Uses `config`'s keys; nil when no secret key is configured (tokens then get minimal rows, as before).
    init?(config: ClerkAPIConfig, ttlMs: Int64 = 60_000) throws {
        var clients: [String: ClerkBackendAPI] = [:]
        for environment in config.secretKeys.keys {
            if let client = try config.client(for: environment) { clients[environment] = client }
        }
        guard !clients.isEmpty else { return nil }
        state = Mutex(State(clients: clients))
        self.ttlMs = ttlMs
    }

    /// Clerk's answer for `clerkUserId` in `environment`, from the cache when fresh.
    func lookUp(_ clerkUserId: String, environment: String, deadlineMs: Int64) -> Answer? {
        let now = Clock.nowMs()
        let key = environment + "\u{1F}" + clerkUserId
        // The lock is held across the call: the easy handle serves one request at a time, and a second
        // request for the same user then finds the first one's answer.
        return state.withLock { s -> Answer? in
            if let cached = s.answers[key], now - cached.atMs < ttlMs { return cached.answer }
            guard let client = s.clients[environment] else { return nil }
            let answer: Answer
            do throws(ClerkAPIError) {
                let body = try client.userWithJSON(id: clerkUserId, deadlineMs: min(deadlineMs, now + Self.callBudgetMs))
                answer = .found(body.user, json: body.json)
            } catch {
                answer = error == .notFound ? .notFound : .unavailable(error)
            }
            if case .unavailable = answer { return answer }  // outages are not remembered
            if s.answers.count >= Self.maxEntries { s.answers.removeAll(keepingCapacity: true) }
            s.answers[key] = (answer, now)
            return answer
        }
    }
}
