import Store

/// Where webhook and queue deliveries are written: the store's repositories behind one protocol, so the
/// webhook handler's decisions run against an in-memory store in the unit tier and against PostgreSQL in
/// the integration tier.
protocol EventStore: Sendable {
    /// Applies a user change (`clerk_apply_user_event`).
    func apply(_ change: UserChange) throws(PostgresError) -> SyncResult
    /// Applies an organization change (`clerk_apply_organization_event`).
    func apply(_ change: OrganizationChange) throws(PostgresError) -> OrganizationSyncResult
    /// Applies a membership change (`clerk_apply_membership_event`).
    func apply(_ change: MembershipChange) throws(PostgresError) -> OrganizationSyncResult
    /// Applies a Clerk Billing change (subscriptions, their items, payment attempts; the user's tier follows).
    func apply(_ change: BillingChange) throws(PostgresError) -> OrganizationSyncResult
    /// Records a delivery PostgreSQL refused as data, once, with its body kept for a person.
    func recordRejected(_ rejected: RejectedDelivery) throws(PostgresError)
    /// Keeps a queued message that never became a delivery, once, for a person.
    func keepRefused(source: DeliverySource, messageId: String, reason: String, body: [UInt8]) throws(PostgresError)
}

/// A delivery the database refused for its data (SQLSTATE class 22).
struct RejectedDelivery: Sendable, Equatable {
    var deliveryId: String
    var environment: String
    var eventType: String
    var clerkUserId: String?
    var source: DeliverySource
    var sqlState: String
    var body: String
}

/// The store in PostgreSQL, over the function's one connection.
struct PostgresEventStore: EventStore {
    let database: DatabaseSession

    func apply(_ change: UserChange) throws(PostgresError) -> SyncResult {
        try UserStore(connection: database.connection).apply(change)
    }

    func apply(_ change: OrganizationChange) throws(PostgresError) -> OrganizationSyncResult {
        try OrganizationStore(connection: database.connection).apply(change)
    }

    func apply(_ change: MembershipChange) throws(PostgresError) -> OrganizationSyncResult {
        try OrganizationStore(connection: database.connection).apply(change)
    }

    func apply(_ change: BillingChange) throws(PostgresError) -> OrganizationSyncResult {
        try BillingStore(connection: database.connection).apply(change)
    }

    func recordRejected(_ r: RejectedDelivery) throws(PostgresError) {
        try DeliveryRejection(connection: database.connection).record(
            deliveryId: r.deliveryId, environment: r.environment, eventType: r.eventType, clerkUserId: r.clerkUserId,
            source: r.source.rawValue, reason: "data_error \(r.sqlState)", rawBody: r.body)
    }

    func keepRefused(source: DeliverySource, messageId: String, reason: String, body: [UInt8]) throws(PostgresError) {
        try DeliveryRejection(connection: database.connection).keep(source: source.rawValue, messageId: messageId, reason: reason, body: body)
    }
}
