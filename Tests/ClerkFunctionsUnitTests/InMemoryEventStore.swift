import LambdaRuntime
import Logging
import Store

@testable import ClerkFunctions

/// The event store in memory: the store's rules as the handler relies on them (deduplicated by delivery,
/// newer `updated_at` wins, tombstones stay), and a failure to inject. Every write is kept for assertions.
/// One test thread uses it at a time.
final class InMemoryEventStore: EventStore, @unchecked Sendable {
    private var deliveries: Set<String> = []
    private var versions: [String: (updatedAt: Int64, deleted: Bool, id: PostgresUUID)] = [:]
    private(set) var applied: [any StoreChange] = []
    private(set) var rejected: [RejectedDelivery] = []
    private(set) var refused: [(source: DeliverySource, messageId: String, reason: String)] = []
    /// Thrown by the next write, then cleared.
    var failNext: PostgresError?

    func apply(_ change: UserChange) throws(PostgresError) -> SyncResult {
        let (status, id, nul) = try write(
            change, key: "user:" + change.user.clerkUserId, updatedAt: change.user.updatedAtMs,
            deleting: change.kind == .deleted, nul: change.user.cleaned().removed)
        return SyncResult(status: status, userId: id, nulRemoved: nul)
    }

    func apply(_ change: OrganizationChange) throws(PostgresError) -> OrganizationSyncResult {
        let (status, id, nul) = try write(
            change, key: "org:" + change.organization.clerkOrgId,
            updatedAt: change.organization.updatedAtMs, deleting: change.kind == .deleted,
            nul: change.organization.cleaned().removed)
        return OrganizationSyncResult(status: status, id: id, nulRemoved: nul)
    }

    func apply(_ change: MembershipChange) throws(PostgresError) -> OrganizationSyncResult {
        let (status, id, nul) = try write(
            change, key: "mem:" + change.membership.clerkMembershipId,
            updatedAt: change.membership.updatedAtMs, deleting: change.kind == .deleted,
            nul: change.membership.cleaned().removed)
        return OrganizationSyncResult(status: status, id: id, nulRemoved: nul)
    }

    func apply(_ change: BillingChange) throws(PostgresError) -> OrganizationSyncResult {
        let (status, id, nul) = try write(
            change, key: "billing:" + change.clerkId, updatedAt: Self.updatedAt(change.resource), deleting: false, nul: 0)
        return OrganizationSyncResult(status: status, id: id, nulRemoved: nul)
    }

    private static func updatedAt(_ resource: BillingChange.Resource) -> Int64? {
        switch resource {
        case .subscription(let s): s.updatedAtMs
        case .item(let i): i.updatedAtMs
        case .paymentAttempt(let a): a.updatedAtMs
        }
    }

    func recordRejected(_ r: RejectedDelivery) throws(PostgresError) {
        if let error = failNext {
            failNext = nil
            throw error
        }
        rejected.append(r)
    }

    func keepRefused(source: DeliverySource, messageId: String, reason: String, body: [UInt8]) throws(PostgresError) {
        if let error = failNext {
            failNext = nil
            throw error
        }
        refused.append((source, messageId, reason))
    }

    private func write(_ change: some StoreChange & Sendable, key: String, updatedAt: Int64?, deleting: Bool, nul: Int)
        throws(PostgresError) -> (SyncStatus, PostgresUUID?, Int)
    {
        do {
            if let error = failNext {
                failNext = nil
                throw error
            }
            let deliveryKey =
                (change as? UserChange)?.deliveryId ?? (change as? OrganizationChange)?.deliveryId
                ?? (change as? MembershipChange)?.deliveryId ?? (change as? BillingChange)?.deliveryId ?? ""
            let existing = versions[key]
            guard deliveries.insert(deliveryKey).inserted else { return (.duplicate, existing?.id, 0) }
            if let existing, existing.deleted || (!deleting && (updatedAt ?? 0) <= existing.updatedAt) {
                return (.stale, existing.id, nul)
            }
            let id = existing?.id ?? Self.uuid(versions.count + 1)
            versions[key] = ((updatedAt ?? existing?.updatedAt ?? 0), deleting, id)
            applied.append(change)
            return (.processed, id, nul)
        }
    }

    static func uuid(_ n: Int) -> PostgresUUID {
        let hex = String(n, radix: 16)
        return PostgresUUID(uuidString: "00000000-0000-0000-0000-" + String(repeating: "0", count: 12 - hex.count) + hex)!
    }
}
