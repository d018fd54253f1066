/// A Clerk Billing subscription item as the Backend API lists it (`CommerceSubscriptionItem` from
/// `GET /v1/billing/subscription_items`): not the webhook's shape (`plan_period`, the plan's `fee`, no
/// subscription id). Read leniently: only `id` and `status` are required.
public struct ClerkBillingItem: Decodable, Sendable, Equatable {
    /// The plan as the Backend API nests it (`CommercePlan`).
    public struct Plan: Decodable, Sendable, Equatable {
        /// `cplan_…`.
        public let id: String?
        /// The slug (`pro`): the application's tier.
        public let slug: String?
        /// The name.
        public let name: String?
        /// The monthly fee.
        public let fee: ClerkMoney?
    }

    /// `csub_item_…`.
    public let id: String
    /// `active`, `past_due`, `canceled`, `expired`, `ended`, `upcoming`, `incomplete`, `abandoned`.
    public let status: String
    /// Who pays (`CommercePayerResponse`).
    public let payer: ClerkBillingPayer?
    /// `cplan_…`.
    public let planId: String?
    /// The plan.
    public let plan: Plan?
    /// `month`, `annual`.
    public let planPeriod: String?
    /// Epoch ms.
    public let periodStart: Int64?
    public let periodEnd: Int64?
    /// Whether it is a free trial.
    public let isFreeTrial: Bool?
    /// Epoch ms: the list's order (newest first).
    public let createdAt: Int64?
    /// Epoch ms: orders versions of the same item.
    public let updatedAt: Int64?

    enum CodingKeys: String, CodingKey {
        case id, status, payer, plan
        case planId = "plan_id"
        case planPeriod = "plan_period"
        case periodStart = "period_start"
        case periodEnd = "period_end"
        case isFreeTrial = "is_free_trial"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}

extension ClerkBillingItem: ClerkListed {
    /// The payer's user or organization id: each goes into keys.
    public var referencedIds: [String] { [payer?.userId, payer?.organizationId].compactMap { $0 } }
}
