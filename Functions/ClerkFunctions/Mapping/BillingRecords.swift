import ClerkKit
import JSON
import Store

// One mapping per Clerk Billing resource: a subscription, a subscription item or a payment attempt becomes the
// store's record here and nowhere else. Text is cleaned of NUL by the store, at its edge.

extension BillingPayer {
    /// The payer Clerk names.
    init(_ payer: ClerkBillingPayer) {
        self.init(clerkPayerId: payer.id, clerkUserId: payer.userId, clerkOrgId: payer.organizationId)
    }
}

extension BillingItemRecord {
    /// The record of `item`, paid for by `payer` (the item's own, or its subscription's), whose JSON is `json`.
    init(_ item: ClerkSubscriptionItem, payer: BillingPayer?, subscriptionId: String? = nil, json: String) {
        self.init(
            clerkItemId: item.id, clerkSubscriptionId: item.subscriptionId ?? subscriptionId, status: item.status,
            payer: item.payer.map(BillingPayer.init) ?? payer, planId: item.planId ?? item.plan?.id, planSlug: item.plan?.slug,
            planName: item.plan?.name, amount: item.plan?.amount, currency: item.plan?.currency, interval: item.interval,
            periodStartMs: item.periodStart, periodEndMs: item.periodEnd, isFreeTrial: item.isFreeTrial ?? false,
            createdAtMs: item.createdAt, updatedAtMs: item.updatedAt, rawJSON: json)
    }
}

extension BillingItemRecord {
    /// The record of `item` as the Backend API lists it (no subscription id; the plan's `fee` is its amount),
    /// whose JSON is `json`.
    init(_ item: ClerkBillingItem, json: String) {
        self.init(
            clerkItemId: item.id, status: item.status, payer: item.payer.map(BillingPayer.init), planId: item.planId ?? item.plan?.id,
            planSlug: item.plan?.slug, planName: item.plan?.name, amount: item.plan?.fee?.amount, currency: item.plan?.fee?.currency,
            interval: item.planPeriod, periodStartMs: item.periodStart, periodEndMs: item.periodEnd,
            isFreeTrial: item.isFreeTrial ?? false, createdAtMs: item.createdAt, updatedAtMs: item.updatedAt, rawJSON: json)
    }
}

extension BillingSubscriptionRecord {
    /// The record of `subscription`, whose JSON is `json`; its items carry its payer and id.
    init(_ subscription: ClerkBillingSubscription, json: String) {
        let payer = subscription.payer.map(BillingPayer.init) ?? BillingPayer()
        let itemJSON = Self.itemJSON(of: json)
        let items = (subscription.items ?? []).enumerated().map { i, item in
            BillingItemRecord(
                item, payer: payer, subscriptionId: subscription.id, json: itemJSON.indices.contains(i) ? itemJSON[i] : "{}")
        }
        self.init(
            clerkSubscriptionId: subscription.id, status: subscription.status, payer: payer, activeAtMs: subscription.activeAt,
            pastDueAtMs: subscription.pastDueAt, canceledAtMs: subscription.canceledAt, endedAtMs: subscription.endedAt,
            latestPaymentId: subscription.latestPaymentId, createdAtMs: subscription.createdAt,
            updatedAtMs: subscription.updatedAt, items: items, rawJSON: json)
    }

    /// Each element of the subscription's `items` as sent (the JSON has been read strictly already).
    static func itemJSON(of json: String) -> [String] {
        let bytes = Array(json.utf8)
        guard let members = try? JSONScanner.members(byStructureOf: bytes),
            let items = members.last(where: { $0.name == "items" }),
            let ranges = try? JSONScanner.arrayElementRanges(Array(bytes[items.value]))
        else { return [] }
        let list = Array(bytes[items.value])
        return ranges.map { String(decoding: list[$0], as: UTF8.self) }
    }
}

extension PaymentAttemptRecord {
    /// The record of `attempt`, whose JSON is `json`.
    init(_ attempt: ClerkPaymentAttempt, json: String) {
        self.init(
            clerkAttemptId: attempt.id, paymentId: attempt.paymentId, status: attempt.status,
            payer: attempt.payer.map(BillingPayer.init) ?? BillingPayer(), amount: attempt.totals?.grandTotal?.amount,
            currency: attempt.totals?.grandTotal?.currency, failedCode: attempt.failedReason?.code,
            failedDeclineCode: attempt.failedReason?.declineCode, paidAtMs: attempt.paidAt, failedAtMs: attempt.failedAt,
            itemIds: (attempt.subscriptionItems ?? []).map(\.id), createdAtMs: attempt.createdAt, updatedAtMs: attempt.updatedAt,
            rawJSON: json)
    }
}
