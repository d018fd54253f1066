extension BillingPayer {
    func cleaned(_ c: inout NULCleaner) -> BillingPayer {
        BillingPayer(clerkPayerId: c.text(clerkPayerId), clerkUserId: c.text(clerkUserId), clerkOrgId: c.text(clerkOrgId))
    }
}

extension BillingItemRecord {
    /// The record without NUL (`PostgresText`), and how many were removed.
    public func cleaned() -> (record: BillingItemRecord, removed: Int) {
        var c = NULCleaner()
        let record = cleaned(&c)
        return (record, c.removed)
    }

    func cleaned(_ c: inout NULCleaner) -> BillingItemRecord {
        var r = self
        r.clerkItemId = c.text(clerkItemId)
        r.clerkSubscriptionId = c.text(clerkSubscriptionId)
        r.status = c.text(status)
        r.payer = payer.map { $0.cleaned(&c) }
        r.planId = c.text(planId)
        r.planSlug = c.text(planSlug)
        r.planName = c.text(planName)
        r.currency = c.text(currency)
        r.interval = c.text(interval)
        r.rawJSON = c.json(rawJSON)
        return r
    }
}

extension BillingSubscriptionRecord {
    /// The record without NUL, its items' too, and how many were removed.
    public func cleaned() -> (record: BillingSubscriptionRecord, removed: Int) {
        var c = NULCleaner()
        var r = self
        r.clerkSubscriptionId = c.text(clerkSubscriptionId)
        r.status = c.text(status)
        r.payer = payer.cleaned(&c)
        r.latestPaymentId = c.text(latestPaymentId)
        r.items = items.map { $0.cleaned(&c) }
        // The items are inside the subscription's JSON: when it holds NUL, its count is the payload's, once.
        var whole = NULCleaner()
        r.rawJSON = whole.json(rawJSON)
        return (r, whole.removed > 0 ? whole.removed : c.removed)
    }
}

extension PaymentAttemptRecord {
    /// The record without NUL, and how many were removed.
    public func cleaned() -> (record: PaymentAttemptRecord, removed: Int) {
        var c = NULCleaner()
        var r = self
        r.clerkAttemptId = c.text(clerkAttemptId)
        r.paymentId = c.text(paymentId)
        r.status = c.text(status)
        r.payer = payer.cleaned(&c)
        r.currency = c.text(currency)
        r.failedCode = c.text(failedCode)
        r.failedDeclineCode = c.text(failedDeclineCode)
        r.itemIds = itemIds.map { c.text($0) }
        r.rawJSON = c.json(rawJSON)
        return (r, c.removed)
    }
}
