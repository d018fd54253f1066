import ClerkKit
import LambdaRuntime
import Store

extension Backfill {
    /// Clerk Billing's subscription items, all of them, a page per transaction; false when the deadline stopped
    /// it. An instance without Billing (404 or 403 on the list) is logged and counted
    /// (`summary.billingUnavailable`), not a failure.
    ///
    /// The list is newest first and takes no `order_by`, so `BackfillCursor` (which anchors on `created_at`
    /// order) does not fit and no position is saved: every pass pages it to the end from the start. Items
    /// created meanwhile push the list down (their neighbours are read twice: each item is applied once per
    /// pass, `seen`); items deleted meanwhile pull it up, which the one-item overlap of consecutive pages
    /// catches (a page that does not begin with an item already read steps back a page). Each item is applied
    /// with delivery id `backfill:<run>:<item>:<updated_at>`, newer-wins against webhooks.
    func billing(_ run: inout BackfillRun, _ summary: inout BackfillSummary, _ limits: Limits, progress: (String) -> Void) throws -> Bool {
        do {
            return try billingItems(run, &summary, limits, progress: progress)
        } catch ClerkAPIError.notFound {
            billingUnavailable(status: 404, &summary)
        } catch ClerkAPIError.unauthorized(let status) where status == 403 {
            billingUnavailable(status: status, &summary)
        }
        return true
    }

    private func billingUnavailable(status: Int, _ summary: inout BackfillSummary) {
        summary.billingUnavailable = true
        logger.warn("backfill billing skipped", ["reason": .string("billing not enabled"), "status": .int(status)])
    }

    private func billingItems(_ run: BackfillRun, _ summary: inout BackfillSummary, _ limits: Limits, progress: (String) -> Void)
        throws -> Bool
    {
        let pageSize = max(self.pageSize, 2)
        var seen: Set<String> = []
        var offset = 0
        var requests = 0
        var forward = 0
        while true {
            guard limits.timeLeft else { return false }
            // Stepping back is bounded: a list that keeps moving under the reads is an error, not a loop.
            guard requests < 2 * forward + 8 else { throw BackfillListUnsettled(requests: requests) }
            requests += 1
            let page = try api.billingItemsWithJSON(limit: pageSize, offset: offset, deadlineMs: limits.deadlineMs)
            if offset > 0, let first = page.first, !seen.contains(first.key.id) {
                offset = max(offset - (pageSize - 1), 0)
                continue
            }
            if offset > 0 && page.isEmpty {
                offset = max(offset - (pageSize - 1), 0)
                continue
            }
            forward += 1
            var fresh: [ClerkListItem<ClerkBillingItem>] = []
            for item in page where seen.insert(item.key.id).inserted { fresh.append(item) }
            let (items, skips) = Self.split(fresh, kind: .billingItem) { BillingItemRecord($0, json: $1) }
            if !fresh.isEmpty {
                let outcome = try store.applyBillingItems(items, skipped: skips, run: run, environment: environment, dryRun: limits.dryRun)
                summary.billing.add(outcome.billing)
                log(outcome.setAside)
            }
            progress(
                "billing items: \(seen.count) read, \(summary.billing.updated) applied, \(summary.billing.unchanged) unchanged, "
                    + "\(summary.billing.stale) stale, \(summary.billing.skipped) skipped")
            if page.count < pageSize { return true }
            offset += page.count - 1
        }
    }
}
