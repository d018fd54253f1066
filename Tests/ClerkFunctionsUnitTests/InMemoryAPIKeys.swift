import LambdaRuntime
import Store

@testable import ClerkFunctions

/// API keys in memory with the rules the issuer relies on: one active key per user, a pending key leased to
/// one delivery at a time.
final class InMemoryAPIKeys: APIKeyRepository, @unchecked Sendable {
    enum State: Equatable {
        case pending(leased: Bool)
        case active, revoked
    }
    private(set) var keys: [String: (userId: PostgresUUID, state: State)] = [:]
    /// Users deleted meanwhile.
    var deletedUsers: Set<PostgresUUID> = []
    /// Thrown by the next call, then cleared.
    var failNext: PostgresError?

    private func fail() throws(PostgresError) {
        if let error = failNext {
            failNext = nil
            throw error
        }
    }

    func hasActiveKey(userId: PostgresUUID) throws(PostgresError) -> Bool {
        try fail()
        return keys.values.contains { $0.userId == userId && $0.state == .active }
    }

    func claimPendingKey(userId: PostgresUUID, clerkUserId: String, keyHash: String, leaseMs: Int) throws -> APIKeyStore.Claim {
        try fail()
        if deletedUsers.contains(userId) { return .userDeleted }
        if keys.values.contains(where: { $0.userId == userId && $0.state == .active }) { return .alreadyActive }
        if keys.values.contains(where: { $0.userId == userId && $0.state == .pending(leased: true) }) { return .leased }
        for (hash, key) in keys where key.userId == userId && key.state == .pending(leased: false) { keys[hash]?.state = .revoked }
        keys[keyHash] = (userId, .pending(leased: true))
        return .claimed
    }

    func activate(keyHash: String) throws(PostgresError) -> Bool {
        try fail()
        guard case .pending? = keys[keyHash]?.state else { return false }
        keys[keyHash]?.state = .active
        return true
    }

    func releaseLease(keyHash: String) throws(PostgresError) {
        try fail()
        if case .pending? = keys[keyHash]?.state { keys[keyHash]?.state = .pending(leased: false) }
    }

    func revoke(keyHash: String) throws(PostgresError) {
        try fail()
        keys[keyHash]?.state = .revoked
    }

    func count(_ state: State) -> Int { keys.values.filter { $0.state == state }.count }
}

/// The profile service as a recording: what it was sent, and the answer it gives.
final class RecordingProfileService: ProfileDelivering, @unchecked Sendable {
    enum Answer {
        case accept
        case reject(Int)
        case unavailable(answered: Bool)
    }
    var answer = Answer.accept
    private(set) var received: [ProfileServiceClient.Body] = []

    func leaseMs(remainingMs: Int64) -> Int { 10_000 }

    func deliver(_ body: ProfileServiceClient.Body, remainingMs: Int64, metrics: InvocationMetrics) throws -> ProfileDelivery {
        received.append(body)
        switch answer {
        case .accept: return .accepted
        case .reject(let status): return .rejected(status: status)
        case .unavailable(let answered): throw ProfileServiceUnavailable(description: "down", answered: answered)
        }
    }
}
