import ClerkKit

/// The Backend API lists a backfill reads, a page by limit and offset, item by item (`ClerkBackendAPI`; scripted
/// pages in the unit tier).
protocol ClerkLists {
    /// Users, oldest first (`GET /v1/users`).
    func usersWithJSON(limit: Int, offset: Int, deadlineMs: Int64) throws(ClerkAPIError) -> [ClerkListItem<ClerkUser>]
    /// Organizations, oldest first (`GET /v1/organizations`).
    func organizationsWithJSON(limit: Int, offset: Int, deadlineMs: Int64) throws(ClerkAPIError) -> [ClerkListItem<ClerkOrganization>]
    /// One organization's memberships, oldest first (`GET /v1/organizations/{id}/memberships`).
    func membershipsWithJSON(organizationId: String, limit: Int, offset: Int, deadlineMs: Int64) throws(ClerkAPIError)
        -> [ClerkListItem<ClerkMembership>]
    /// Clerk Billing subscription items, newest first (`GET /v1/billing/subscription_items`, no `order_by`).
    func billingItemsWithJSON(limit: Int, offset: Int, deadlineMs: Int64) throws(ClerkAPIError) -> [ClerkListItem<ClerkBillingItem>]
}

extension ClerkBackendAPI: ClerkLists {}
