import ClerkKit
import Store

/// Every Clerk event type the functions apply, each known here and only here: its payload type, the store
/// change it becomes (through the one mapping of its resource), its family (and so its outbox topic). The
/// functions' accepted sets, the ignored answer and the README's event table all come from this list; a type
/// not in it is answered `202 ignored` by every function, and a test checks that each family's function takes
/// every registered type of that family.
enum EventRegistry {
    /// The routes, in the README's order.
    static let routes: [EventRoute] = [
        .on("user.created", .users, reads: ClerkUser.self, issuesAPIKey: true) { UserChange(.created, $0, $1) },
        .on("user.updated", .users, reads: ClerkUser.self) { UserChange(.updated, $0, $1) },
        .on("user.deleted", .users, reads: ClerkDeletedObject.self) { UserChange(deleted: $0, $1) },
        .on("organization.created", .organizations, reads: ClerkOrganization.self) { OrganizationChange(.created, $0, $1) },
        .on("organization.updated", .organizations, reads: ClerkOrganization.self) { OrganizationChange(.updated, $0, $1) },
        .on("organization.deleted", .organizations, reads: ClerkDeletedObject.self) { OrganizationChange(deleted: $0, $1) },
        .on("organizationMembership.created", .organizations, reads: ClerkMembership.self) { MembershipChange(.created, $0, $1) },
        .on("organizationMembership.updated", .organizations, reads: ClerkMembership.self) { MembershipChange(.updated, $0, $1) },
        .on("organizationMembership.deleted", .organizations, reads: ClerkMembershipDeletion.self) {
            MembershipChange(deleted: $0, $1)
        },
        // Clerk Billing. Clerk's first spelling of the past-due events (`…past_due`) is taken too.
        .on("subscription.created", .billing, reads: ClerkBillingSubscription.self) { BillingChange("subscription.created", $0, $1) },
        .on("subscription.updated", .billing, reads: ClerkBillingSubscription.self) { BillingChange("subscription.updated", $0, $1) },
        .on("subscription.active", .billing, reads: ClerkBillingSubscription.self) { BillingChange("subscription.active", $0, $1) },
        .on("subscription.pastDue", .billing, reads: ClerkBillingSubscription.self) { BillingChange("subscription.pastDue", $0, $1) },
        .on("subscription.past_due", .billing, reads: ClerkBillingSubscription.self) { BillingChange("subscription.past_due", $0, $1) },
        .on("subscriptionItem.created", .billing, reads: ClerkSubscriptionItem.self) { BillingChange("subscriptionItem.created", $0, $1) },
        .on("subscriptionItem.updated", .billing, reads: ClerkSubscriptionItem.self) { BillingChange("subscriptionItem.updated", $0, $1) },
        .on("subscriptionItem.active", .billing, reads: ClerkSubscriptionItem.self) { BillingChange("subscriptionItem.active", $0, $1) },
        .on("subscriptionItem.canceled", .billing, reads: ClerkSubscriptionItem.self) { BillingChange("subscriptionItem.canceled", $0, $1) },
        .on("subscriptionItem.upcoming", .billing, reads: ClerkSubscriptionItem.self) { BillingChange("subscriptionItem.upcoming", $0, $1) },
        .on("subscriptionItem.ended", .billing, reads: ClerkSubscriptionItem.self) { BillingChange("subscriptionItem.ended", $0, $1) },
        .on("subscriptionItem.abandoned", .billing, reads: ClerkSubscriptionItem.self) { BillingChange("subscriptionItem.abandoned", $0, $1) },
        .on("subscriptionItem.incomplete", .billing, reads: ClerkSubscriptionItem.self) { BillingChange("subscriptionItem.incomplete", $0, $1) },
        .on("subscriptionItem.pastDue", .billing, reads: ClerkSubscriptionItem.self) { BillingChange("subscriptionItem.pastDue", $0, $1) },
        .on("subscriptionItem.past_due", .billing, reads: ClerkSubscriptionItem.self) { BillingChange("subscriptionItem.past_due", $0, $1) },
        .on("subscriptionItem.freeTrialEnding", .billing, reads: ClerkSubscriptionItem.self) {
            BillingChange("subscriptionItem.freeTrialEnding", $0, $1)
        },
        .on("paymentAttempt.created", .billing, reads: ClerkPaymentAttempt.self) { BillingChange("paymentAttempt.created", $0, $1) },
        .on("paymentAttempt.updated", .billing, reads: ClerkPaymentAttempt.self) { BillingChange("paymentAttempt.updated", $0, $1) }
    ]

    /// The routes by type.
    static let byType: [String: EventRoute] = Dictionary(routes.map { ($0.type, $0) }) { first, _ in first }

    /// The route of `type`, or nil when the functions do not apply it.
    static func route(_ type: String) -> EventRoute? { byType[type] }

    /// Every registered type of `families`.
    static func types(of families: Set<EventFamily>) -> Set<String> {
        Set(routes.filter { families.contains($0.family) }.map(\.type))
    }
}

// The store changes of each route: the resource's one mapping (Mapping/), and the envelope's time when the
// resource carries no `updated_at` of its own.

extension UserChange {
    init(_ kind: Kind, _ user: ClerkUser, _ meta: EventMeta) {
        var record = UserRecord(user, json: meta.dataJSON)
        record.updatedAtMs = record.updatedAtMs ?? meta.timestamp
        self.init(kind: kind, deliveryId: meta.deliveryId, environment: meta.environment, user: record)
    }

    init(deleted: ClerkDeletedObject, _ meta: EventMeta) {
        self.init(
            kind: .deleted, deliveryId: meta.deliveryId, environment: meta.environment,
            user: UserRecord(deleted: deleted, json: meta.dataJSON))
    }
}

extension OrganizationChange {
    init(_ kind: Kind, _ org: ClerkOrganization, _ meta: EventMeta) {
        var record = OrganizationRecord(org, json: meta.dataJSON)
        record.updatedAtMs = record.updatedAtMs ?? meta.timestamp
        self.init(kind: kind, deliveryId: meta.deliveryId, environment: meta.environment, organization: record)
    }

    init(deleted: ClerkDeletedObject, _ meta: EventMeta) {
        self.init(
            kind: .deleted, deliveryId: meta.deliveryId, environment: meta.environment,
            organization: OrganizationRecord(deleted: deleted, json: meta.dataJSON))
    }
}

extension MembershipChange {
    init(_ kind: Kind, _ m: ClerkMembership, _ meta: EventMeta) {
        var record = MembershipRecord(m, json: meta.dataJSON)
        record.updatedAtMs = record.updatedAtMs ?? meta.timestamp
        self.init(kind: kind, deliveryId: meta.deliveryId, environment: meta.environment, membership: record)
    }

    init(deleted: ClerkMembershipDeletion, _ meta: EventMeta) {
        var record = MembershipRecord(deleted, json: meta.dataJSON)
        if case .membership = deleted { record.updatedAtMs = record.updatedAtMs ?? meta.timestamp }
        self.init(kind: .deleted, deliveryId: meta.deliveryId, environment: meta.environment, membership: record)
    }
}

extension BillingChange {
    /// The envelope's time in epoch ms: Clerk's examples give seconds, its deliveries milliseconds.
    static func envelopeMs(_ timestamp: Int64?) -> Int64? {
        timestamp.map { $0 > 0 && $0 < 100_000_000_000 ? $0 * 1000 : $0 }
    }

    init(_ type: String, _ subscription: ClerkBillingSubscription, _ meta: EventMeta) {
        var record = BillingSubscriptionRecord(subscription, json: meta.dataJSON)
        record.updatedAtMs = record.updatedAtMs ?? Self.envelopeMs(meta.timestamp)
        self.init(eventType: type, deliveryId: meta.deliveryId, environment: meta.environment, resource: .subscription(record))
    }

    init(_ type: String, _ item: ClerkSubscriptionItem, _ meta: EventMeta) {
        var record = BillingItemRecord(item, payer: nil, json: meta.dataJSON)
        record.updatedAtMs = record.updatedAtMs ?? Self.envelopeMs(meta.timestamp)
        self.init(eventType: type, deliveryId: meta.deliveryId, environment: meta.environment, resource: .item(record))
    }

    init(_ type: String, _ attempt: ClerkPaymentAttempt, _ meta: EventMeta) {
        var record = PaymentAttemptRecord(attempt, json: meta.dataJSON)
        record.updatedAtMs = record.updatedAtMs ?? Self.envelopeMs(meta.timestamp)
        self.init(eventType: type, deliveryId: meta.deliveryId, environment: meta.environment, resource: .paymentAttempt(record))
    }
}
