/// Who pays for a Clerk Billing subscription: a user or an organization (Clerk's `payer`), by Clerk ids.
public struct BillingPayer: Sendable, Equatable {
    /// `cpayer_…`.
    public var clerkPayerId: String?
    /// `user_…` for a user payer.
    public var clerkUserId: String?
    /// `org_…` for an organization payer.
    public var clerkOrgId: String?

    /// A payer.
    public init(clerkPayerId: String? = nil, clerkUserId: String? = nil, clerkOrgId: String? = nil) {
        self.clerkPayerId = clerkPayerId
        self.clerkUserId = clerkUserId
        self.clerkOrgId = clerkOrgId
    }
}

/// A Clerk Billing subscription item as the store keeps it: one plan for one payer over a period.
public struct BillingItemRecord: Sendable, Equatable {
    /// `csub_item_…`.
    public var clerkItemId: String
    /// `csub_…`, when the event names it.
    public var clerkSubscriptionId: String?
    /// `active`, `past_due`, `canceled`, `ended`, `abandoned`, `incomplete`, `upcoming` (`expired` too).
    public var status: String
    /// The payer, when the event names it (standalone item events do; items inside a subscription do not).
    public var payer: BillingPayer?
    /// `cplan_…`.
    public var planId: String?
    /// The plan's slug: the application's `tier` while the item is active.
    public var planSlug: String?
    /// The plan's name.
    public var planName: String?
    /// The plan's amount, in the currency's smallest unit.
    public var amount: Int64?
    /// `USD`, …
    public var currency: String?
    /// `month`, `annual`.
    public var interval: String?
    /// Epoch ms.
    public var periodStartMs: Int64?
    /// Epoch ms.
    public var periodEndMs: Int64?
    /// Whether the item is a free trial.
    public var isFreeTrial: Bool
    /// Epoch ms.
    public var createdAtMs: Int64?
    /// Epoch ms: orders versions of the same item.
    public var updatedAtMs: Int64?
    /// The item's JSON as Clerk sent it.
    public var rawJSON: String

    /// Describes an item.
    public init(
        clerkItemId: String, clerkSubscriptionId: String? = nil, status: String, payer: BillingPayer? = nil, planId: String? = nil,
        planSlug: String? = nil, planName: String? = nil, amount: Int64? = nil, currency: String? = nil, interval: String? = nil,
        periodStartMs: Int64? = nil, periodEndMs: Int64? = nil, isFreeTrial: Bool = false, createdAtMs: Int64? = nil,
        updatedAtMs: Int64? = nil, rawJSON: String
    ) {
        self.clerkItemId = clerkItemId
        self.clerkSubscriptionId = clerkSubscriptionId
        self.status = status
        self.payer = payer
        self.planId = planId
        self.planSlug = planSlug
        self.planName = planName
        self.amount = amount
        self.currency = currency
        self.interval = interval
        self.periodStartMs = periodStartMs
        self.periodEndMs = periodEndMs
        self.isFreeTrial = isFreeTrial
        self.createdAtMs = createdAtMs
        self.updatedAtMs = updatedAtMs
        self.rawJSON = rawJSON
    }
}

/// A Clerk Billing subscription as the store keeps it: the payer's whole subscription, with its items.
public struct BillingSubscriptionRecord: Sendable, Equatable {
    /// `csub_…`.
    public var clerkSubscriptionId: String
    /// `active`, `past_due`, `canceled`, `ended`, `abandoned`, `incomplete`.
    public var status: String
    /// Who pays.
    public var payer: BillingPayer
    /// Epoch ms, each when Clerk set it.
    public var activeAtMs: Int64?
    public var pastDueAtMs: Int64?
    public var canceledAtMs: Int64?
    public var endedAtMs: Int64?
    /// `cpa_…`: the latest payment.
    public var latestPaymentId: String?
    /// Epoch ms.
    public var createdAtMs: Int64?
    /// Epoch ms: orders versions of the same subscription.
    public var updatedAtMs: Int64?
    /// Its items (their payer is the subscription's).
    public var items: [BillingItemRecord]
    /// The subscription's JSON as Clerk sent it.
    public var rawJSON: String

    /// Describes a subscription.
    public init(
        clerkSubscriptionId: String, status: String, payer: BillingPayer, activeAtMs: Int64? = nil, pastDueAtMs: Int64? = nil,
        canceledAtMs: Int64? = nil, endedAtMs: Int64? = nil, latestPaymentId: String? = nil, createdAtMs: Int64? = nil,
        updatedAtMs: Int64? = nil, items: [BillingItemRecord] = [], rawJSON: String
    ) {
        self.clerkSubscriptionId = clerkSubscriptionId
        self.status = status
        self.payer = payer
        self.activeAtMs = activeAtMs
        self.pastDueAtMs = pastDueAtMs
        self.canceledAtMs = canceledAtMs
        self.endedAtMs = endedAtMs
        self.latestPaymentId = latestPaymentId
        self.createdAtMs = createdAtMs
        self.updatedAtMs = updatedAtMs
        self.items = items
        self.rawJSON = rawJSON
    }
}

/// A Clerk Billing payment attempt as the store keeps it.
public struct PaymentAttemptRecord: Sendable, Equatable {
    /// The attempt's id.
    public var clerkAttemptId: String
    /// `cpa_…`: the payment it tries.
    public var paymentId: String?
    /// `pending`, `paid`, `failed`.
    public var status: String
    /// Who pays.
    public var payer: BillingPayer
    /// The grand total, in the currency's smallest unit.
    public var amount: Int64?
    /// `USD`, …
    public var currency: String?
    /// Why it failed (`failed_reason.code`, `.decline_code`).
    public var failedCode: String?
    public var failedDeclineCode: String?
    /// Epoch ms.
    public var paidAtMs: Int64?
    public var failedAtMs: Int64?
    /// The items it paid for (`csub_item_…`).
    public var itemIds: [String]
    /// Epoch ms.
    public var createdAtMs: Int64?
    /// Epoch ms: orders versions of the same attempt.
    public var updatedAtMs: Int64?
    /// The attempt's JSON as Clerk sent it.
    public var rawJSON: String

    /// Describes an attempt.
    public init(
        clerkAttemptId: String, paymentId: String? = nil, status: String, payer: BillingPayer, amount: Int64? = nil,
        currency: String? = nil, failedCode: String? = nil, failedDeclineCode: String? = nil, paidAtMs: Int64? = nil,
        failedAtMs: Int64? = nil, itemIds: [String] = [], createdAtMs: Int64? = nil, updatedAtMs: Int64? = nil, rawJSON: String
    ) {
        self.clerkAttemptId = clerkAttemptId
        self.paymentId = paymentId
        self.status = status
        self.payer = payer
        self.amount = amount
        self.currency = currency
        self.failedCode = failedCode
        self.failedDeclineCode = failedDeclineCode
        self.paidAtMs = paidAtMs
        self.failedAtMs = failedAtMs
        self.itemIds = itemIds
        self.createdAtMs = createdAtMs
        self.updatedAtMs = updatedAtMs
        self.rawJSON = rawJSON
    }
}

/// One Clerk Billing event as a change of the store, with the delivery that brought it.
public struct BillingChange: Sendable, Equatable {
    /// What changed.
    public enum Resource: Sendable, Equatable {
        case subscription(BillingSubscriptionRecord)
        case item(BillingItemRecord)
        case paymentAttempt(PaymentAttemptRecord)
    }

    /// `subscription.active`, `subscriptionItem.ended`, …
    public var eventType: String
    /// The delivery id (deduplication key).
    public var deliveryId: String
    /// `production` or `development`.
    public var environment: String
    /// The resource.
    public var resource: Resource

    /// A change.
    public init(eventType: String, deliveryId: String, environment: String, resource: Resource) {
        self.eventType = eventType
        self.deliveryId = deliveryId
        self.environment = environment
        self.resource = resource
    }
}
