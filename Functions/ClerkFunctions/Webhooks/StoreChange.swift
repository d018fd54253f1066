import Store

/// What one registered event becomes: a change of the store, applied through the `EventStore` seam with its
/// family's rules (deduplicated by delivery, newer `updated_at` wins, tombstones stay).
protocol StoreChange: Sendable {
    /// The Clerk id the change is about, for log lines.
    var clerkId: String { get }
    /// The Clerk user it is about, when it is about one (kept with a rejected delivery).
    var clerkUserId: String? { get }
    /// The log field that names `clerkId`: `clerkUserId` for users, `clerkId` for the rest.
    var clerkIdField: String { get }
    /// The id the answer names: `userId`, `organizationId` or `membershipId`.
    var answerKey: AnswerKey { get }
    /// Applies the change.
    func apply(to store: any EventStore) throws(PostgresError) -> AppliedChange
}

/// The name of the internal id in a webhook's answer.
enum AnswerKey: String, Sendable {
    case userId, organizationId, membershipId
    case subscriptionId, subscriptionItemId, paymentAttemptId
}

/// How a change was applied: the store's status, the row's internal id, and the NUL the store removed.
struct AppliedChange: Sendable, Equatable {
    /// `processed`, `duplicate` or `stale`.
    var status: SyncStatus
    /// The internal id of the row, when one exists.
    var id: PostgresUUID?
    /// NUL characters removed before storing (PostgreSQL cannot hold them).
    var nulRemoved: Int
}

extension UserChange: StoreChange {
    var clerkId: String { user.clerkUserId }
    var clerkIdField: String { "clerkUserId" }
    var clerkUserId: String? { user.clerkUserId }
    var answerKey: AnswerKey { .userId }

    func apply(to store: any EventStore) throws(PostgresError) -> AppliedChange {
        let result = try store.apply(self)
        return AppliedChange(status: result.status, id: result.userId, nulRemoved: result.nulRemoved)
    }
}

extension OrganizationChange: StoreChange {
    var clerkId: String { organization.clerkOrgId }
    var clerkIdField: String { "clerkId" }
    var clerkUserId: String? { nil }
    var answerKey: AnswerKey { .organizationId }

    func apply(to store: any EventStore) throws(PostgresError) -> AppliedChange {
        let result = try store.apply(self)
        return AppliedChange(status: result.status, id: result.id, nulRemoved: result.nulRemoved)
    }
}

extension MembershipChange: StoreChange {
    var clerkId: String { membership.clerkMembershipId }
    var clerkIdField: String { "clerkId" }
    var clerkUserId: String? { nil }
    var answerKey: AnswerKey { .membershipId }

    func apply(to store: any EventStore) throws(PostgresError) -> AppliedChange {
        let result = try store.apply(self)
        return AppliedChange(status: result.status, id: result.id, nulRemoved: result.nulRemoved)
    }
}

extension BillingChange: StoreChange {
    var clerkId: String {
        switch resource {
        case .subscription(let s): s.clerkSubscriptionId
        case .item(let i): i.clerkItemId
        case .paymentAttempt(let a): a.clerkAttemptId
        }
    }

    var clerkUserId: String? {
        switch resource {
        case .subscription(let s): s.payer.clerkUserId
        case .item(let i): i.payer?.clerkUserId
        case .paymentAttempt(let a): a.payer.clerkUserId
        }
    }

    var clerkIdField: String { "clerkId" }

    var answerKey: AnswerKey {
        switch resource {
        case .subscription: .subscriptionId
        case .item: .subscriptionItemId
        case .paymentAttempt: .paymentAttemptId
        }
    }

    func apply(to store: any EventStore) throws(PostgresError) -> AppliedChange {
        let result = try store.apply(self)
        return AppliedChange(status: result.status, id: result.id, nulRemoved: result.nulRemoved)
    }
}
