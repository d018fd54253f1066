/// Clerk Billing subscription items from the Backend API, applied as webhooks apply them.
extension BackfillStore {
    /// Applies one page of items through `clerk_apply_billing_item` (each with delivery id
    /// `backfill:<run>:<item>:<updated_at>`, so a page read twice in a run is `duplicate`, and the newer copy
    /// wins against webhooks) and keeps the items set aside (`skipped`, and any item PostgreSQL refuses as
    /// data), in one transaction; rolled back with `dryRun`. Applied counts as `updated`, duplicate as
    /// `unchanged`, stale as `stale` (the apply function does not tell a new item from a changed one).
    public func applyBillingItems(
        _ items: [BillingItemRecord], skipped: [BackfillSkip] = [], run: BackfillRun, environment: String, dryRun: Bool
    ) throws -> BackfillOutcome {
        var outcome = BackfillOutcome()
        outcome.setAside = skipped
        let billing = BillingStore(connection: connection)
        try connection.query("BEGIN")
        do {
            let (counts, refused) = try applyIsolatingDataErrors(items) { slice in
                var counts = BackfillCounts()
                for item in slice {
                    let change = BillingChange(
                        eventType: "subscriptionItem.updated",
                        deliveryId: "backfill:\(run.id):\(item.clerkItemId):\(item.updatedAtMs.map { String($0) } ?? "-")",
                        environment: environment, resource: .item(item))
                    switch try billing.apply(change).status {
                    case .processed: counts.updated += 1
                    case .duplicate: counts.unchanged += 1
                    case .stale: counts.stale += 1
                    }
                }
                return counts
            }
            outcome.billing = counts
            Self.settle(&outcome, refused: refused, kind: .billingItem) { ($0.clerkItemId, $0.rawJSON) }
            Self.countSkipped(&outcome)
            try keep(outcome.setAside, run: run, environment: environment)
            try connection.query(dryRun ? "ROLLBACK" : "COMMIT")
        } catch {
            _ = try? connection.query("ROLLBACK")
            throw error
        }
        return outcome
    }
}
