/// Clerk Billing subscriptions, items and payment attempts, applied through `clerk_apply_billing_subscription`,
/// `clerk_apply_billing_item` and `clerk_apply_billing_payment_attempt` (the rules live in the database).
public struct BillingStore {
    let connection: PostgresConnection

    /// Uses `connection`.
    public init(connection: PostgresConnection) { self.connection = connection }

    /// Applies one change atomically (one statement). NUL characters are removed first and counted.
    public func apply(_ change: BillingChange) throws(PostgresError) -> OrganizationSyncResult {
        let delivery = PostgresText.removingNUL(change.deliveryId).text
        let head: [PostgresEncodable?] = [delivery, change.environment, change.eventType]
        switch change.resource {
        case .subscription(let raw):
            let (s, removed) = raw.cleaned()
            let items = s.items
            let rows = try connection.query(
                """
                SELECT o_outcome, o_id FROM clerk_apply_billing_subscription($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,
                    $14, $15, $16, $17::text[], $18::text[], $19::text[], $20::text[], $21::text[], $22::bigint[], $23::text[],
                    $24::text[], $25::bigint[], $26::bigint[], $27::boolean[], $28::bigint[], $29::bigint[], $30::text[])
                """,
                head + [
                    s.clerkSubscriptionId, s.status, s.payer.clerkPayerId, s.payer.clerkUserId, s.payer.clerkOrgId, s.activeAtMs,
                    s.pastDueAtMs, s.canceledAtMs, s.endedAtMs, s.latestPaymentId, s.createdAtMs, s.updatedAtMs, s.rawJSON,
                    PostgresArray(items.map { Optional($0.clerkItemId) }), PostgresArray(items.map { Optional($0.status) }),
                    PostgresArray(items.map(\.planId)), PostgresArray(items.map(\.planSlug)), PostgresArray(items.map(\.planName)),
                    PostgresArray(items.map(\.amount)), PostgresArray(items.map(\.currency)), PostgresArray(items.map(\.interval)),
                    PostgresArray(items.map(\.periodStartMs)), PostgresArray(items.map(\.periodEndMs)),
                    PostgresArray(items.map { Optional($0.isFreeTrial ? "t" : "f") }), PostgresArray(items.map(\.createdAtMs)),
                    PostgresArray(items.map(\.updatedAtMs)), PostgresArray(items.map { Optional($0.rawJSON) })
                ])
            return try Self.result(rows, removed)
        case .item(let raw):
            let (i, removed) = raw.cleaned()
            let rows = try connection.query(
                """
                SELECT o_outcome, o_id FROM clerk_apply_billing_item($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
                    $15, $16, $17, $18, $19, $20, $21)
                """,
                head + [
                    i.clerkItemId, i.clerkSubscriptionId, i.status, i.payer?.clerkPayerId, i.payer?.clerkUserId, i.payer?.clerkOrgId,
                    i.planId, i.planSlug, i.planName, i.amount, i.currency, i.interval, i.periodStartMs, i.periodEndMs,
                    i.isFreeTrial, i.createdAtMs, i.updatedAtMs, i.rawJSON
                ])
            return try Self.result(rows, removed)
        case .paymentAttempt(let raw):
            let (a, removed) = raw.cleaned()
            let rows = try connection.query(
                """
                SELECT o_outcome, o_id FROM clerk_apply_billing_payment_attempt($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,
                    $13, $14, $15, $16::text[], $17, $18, $19)
                """,
                head + [
                    a.clerkAttemptId, a.paymentId, a.status, a.payer.clerkPayerId, a.payer.clerkUserId, a.payer.clerkOrgId, a.amount,
                    a.currency, a.failedCode, a.failedDeclineCode, a.paidAtMs, a.failedAtMs,
                    PostgresArray(a.itemIds.map { Optional($0) }), a.createdAtMs, a.updatedAtMs, a.rawJSON
                ])
            return try Self.result(rows, removed)
        }
    }

    private static func result(_ rows: PostgresRows, _ removed: Int) throws(PostgresError) -> OrganizationSyncResult {
        guard let row = rows.first else { throw .query(sqlState: "XX000", message: "billing function returned no row") }
        let outcome = try row.decode("o_outcome", as: String.self)
        guard let status = SyncStatus(rawValue: outcome) else { throw .decoding(column: "o_outcome", expected: "SyncStatus") }
        return OrganizationSyncResult(status: status, id: try row.decodeIfPresent("o_id", as: PostgresUUID.self), nulRemoved: removed)
    }

    /// The user's current plan (the item that gives its tier): its slug, status and period end; nil when none is
    /// current (no billing, or only ended, abandoned, expired, incomplete or upcoming items).
    public func currentPlan(userId: PostgresUUID) throws(PostgresError) -> (slug: String, status: String, periodEndMs: Int64?)? {
        let rows = try connection.query(
            """
            SELECT i.plan_slug, i.status, (extract(epoch FROM i.period_end) * 1000)::bigint AS period_end_ms
              FROM billing_subscription_items i
             WHERE i.user_id = $1 AND i.status IN ('active', 'past_due', 'canceled') AND i.plan_slug IS NOT NULL
             ORDER BY i.period_start DESC NULLS LAST, i.clerk_updated_at DESC NULLS LAST, i.clerk_item_id DESC
             LIMIT 1
            """, [userId])
        guard let row = rows.first else { return nil }
        return (try row.decode("plan_slug"), try row.decode("status"), try row.decodeIfPresent("period_end_ms"))
    }
}
