/// A money value as Clerk Billing writes it (`BillingAmount`, the Backend API's `CommerceMoneyResponse`): only
/// the amount and its currency are read.
public struct ClerkMoney: Decodable, Sendable, Equatable {
    /// In the currency's smallest unit.
    public let amount: Int64?
    /// `USD`, …
    public let currency: String?
}

/// Who pays, as Clerk Billing sends it: a user or an organization. Clerk fills the one that does not apply
/// with an empty string; it is read as absent.
public struct ClerkBillingPayer: Decodable, Sendable, Equatable {
    /// `cpayer_…`.
    public let id: String?
    /// `user_…` for a user payer.
    public let userId: String?
    /// `org_…` for an organization payer.
    public let organizationId: String?

    enum CodingKeys: String, CodingKey {
        case id
        case userId = "user_id"
        case organizationId = "organization_id"
    }

    /// A payer from its parts.
    public init(id: String?, userId: String?, organizationId: String?) {
        self.id = id
        self.userId = userId
        self.organizationId = organizationId
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func present(_ key: CodingKeys) throws -> String? {
            guard let text = try c.decodeIfPresent(String.self, forKey: key), !text.isEmpty else { return nil }
            return text
        }
        id = try present(.id)
        organizationId = try present(.organizationId)
        // An organization payer names no user; a user payer has no organization.
        userId = organizationId == nil ? try present(.userId) : nil
    }
}

/// The plan of a subscription item.
public struct ClerkBillingPlan: Decodable, Sendable, Equatable {
    /// `cplan_…`.
    public let id: String?
    /// The slug (`pro`): the application's tier.
    public let slug: String?
    /// The name.
    public let name: String?
    /// In the currency's smallest unit.
    public let amount: Int64?
    /// `USD`, …
    public let currency: String?
}

/// A Clerk Billing subscription item (`BillingSubscriptionItemEventPayload`): one plan for one payer over a period.
public struct ClerkSubscriptionItem: Decodable, Sendable, Equatable {
    /// `csub_item_…`.
    public let id: String
    /// `active`, `past_due`, `canceled`, `ended`, `abandoned`, `incomplete`, `upcoming`.
    public let status: String
    /// `csub_…` (null for items inside a subscription event).
    public let subscriptionId: String?
    /// Who pays (standalone item events only).
    public let payer: ClerkBillingPayer?
    /// `cplan_…`.
    public let planId: String?
    /// The plan.
    public let plan: ClerkBillingPlan?
    /// `month`, `annual`.
    public let interval: String?
    /// Epoch ms.
    public let periodStart: Int64?
    public let periodEnd: Int64?
    /// Whether it is a free trial.
    public let isFreeTrial: Bool?
    /// Epoch ms.
    public let createdAt: Int64?
    /// Epoch ms: orders versions of the same item.
    public let updatedAt: Int64?

    enum CodingKeys: String, CodingKey {
        case id, status, payer, plan, interval
        case subscriptionId = "subscription_id"
        case planId = "plan_id"
        case periodStart = "period_start"
        case periodEnd = "period_end"
        case isFreeTrial = "is_free_trial"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}

/// A Clerk Billing subscription (`SubscriptionEventPayload`): the payer's subscription and its items.
public struct ClerkBillingSubscription: Decodable, Sendable, Equatable {
    /// `csub_…`.
    public let id: String
    /// `active`, `past_due`, `canceled`, `ended`, `abandoned`, `incomplete`.
    public let status: String
    /// Who pays.
    public let payer: ClerkBillingPayer?
    /// Epoch ms, each when Clerk set it.
    public let activeAt: Int64?
    public let pastDueAt: Int64?
    public let canceledAt: Int64?
    public let endedAt: Int64?
    /// `cpa_…`.
    public let latestPaymentId: String?
    /// Epoch ms.
    public let createdAt: Int64?
    /// Epoch ms: orders versions of the same subscription.
    public let updatedAt: Int64?
    /// The items.
    public let items: [ClerkSubscriptionItem]?

    enum CodingKeys: String, CodingKey {
        case id, status, payer, items
        case activeAt = "active_at"
        case pastDueAt = "past_due_at"
        case canceledAt = "canceled_at"
        case endedAt = "ended_at"
        case latestPaymentId = "latest_payment_id"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}

/// A Clerk Billing payment attempt (`PaymentAttemptEventPayload`).
public struct ClerkPaymentAttempt: Decodable, Sendable, Equatable {
    /// `subtotal`, `tax_total`, `grand_total`.
    public struct Totals: Decodable, Sendable, Equatable {
        public let grandTotal: ClerkMoney?
        enum CodingKeys: String, CodingKey { case grandTotal = "grand_total" }
    }
    /// Why it failed.
    public struct FailedReason: Decodable, Sendable, Equatable {
        public let code: String?
        public let declineCode: String?
        enum CodingKeys: String, CodingKey {
            case code
            case declineCode = "decline_code"
        }
    }
    /// An item it paid for (only its id is read: Clerk's examples and schema disagree on the rest).
    public struct PaidItem: Decodable, Sendable, Equatable {
        public let id: String
    }

    /// The attempt's id.
    public let id: String
    /// `cpa_…`.
    public let paymentId: String?
    /// `pending`, `paid`, `failed`.
    public let status: String
    /// Who pays.
    public let payer: ClerkBillingPayer?
    /// The totals.
    public let totals: Totals?
    /// Why it failed.
    public let failedReason: FailedReason?
    /// Epoch ms.
    public let paidAt: Int64?
    public let failedAt: Int64?
    /// The items paid for.
    public let subscriptionItems: [PaidItem]?
    /// Epoch ms.
    public let createdAt: Int64?
    /// Epoch ms: orders versions of the same attempt.
    public let updatedAt: Int64?

    enum CodingKeys: String, CodingKey {
        case id, status, payer, totals
        case paymentId = "payment_id"
        case failedReason = "failed_reason"
        case paidAt = "paid_at"
        case failedAt = "failed_at"
        case subscriptionItems = "subscription_items"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}
