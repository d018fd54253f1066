extension ClerkBackendAPI {
    /// `GET /v1/billing/subscription_items?limit&offset&include_free=true` item by item, newest first (the list
    /// takes no `order_by`), each with its JSON as Clerk sent it. An instance without Billing answers 404 or 403.
    public func billingItemsWithJSON(limit: Int, offset: Int, deadlineMs: Int64) throws(ClerkAPIError)
        -> [ClerkListItem<ClerkBillingItem>]
    {
        let body = try send(
            "GET", "/v1/billing/subscription_items?limit=\(limit)&offset=\(offset)&include_free=true", body: nil,
            deadlineMs: deadlineMs)
        return try ClerkListPage.items(ClerkBillingItem.self, ofDataIn: body)
    }
}
