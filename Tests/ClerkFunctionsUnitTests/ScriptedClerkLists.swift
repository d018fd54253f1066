import ClerkKit

@testable import ClerkFunctions

/// Clerk's Backend API lists as the test scripts them: each item raw JSON text (hostile on purpose when a test
/// wants it), served a page at a time by offset and limit and cut into items by the real page reader
/// (`ClerkListPage`), every read recorded. `beforeRead` runs first: a test moves its clock there, changes the
/// list under the backfill, or fails the read.
final class ScriptedClerkLists: ClerkLists {
    /// One read: which list (`users`, `organizations`, or an organization's id), from where, how many.
    struct Read: Equatable {
        var list: String
        var offset: Int
        var limit: Int
    }

    var users: [String] = []
    var organizations: [String] = []
    /// Each organization's memberships, by the id they are listed under.
    var memberships: [String: [String]] = [:]
    /// Pages answered as this text instead (by list and offset): a page that is not the documented shape.
    var rawPages: [String: [Int: String]] = [:]
    private(set) var reads: [Read] = []
    var beforeRead: ((Read) throws(ClerkAPIError) -> Void)?

    func usersWithJSON(limit: Int, offset: Int, deadlineMs: Int64) throws(ClerkAPIError) -> [ClerkListItem<ClerkUser>] {
        let body = try page("users", users, limit: limit, offset: offset) { "[" + $0 + "]" }
        return try ClerkListPage.items(ClerkUser.self, ofArray: body)
    }

    func organizationsWithJSON(limit: Int, offset: Int, deadlineMs: Int64) throws(ClerkAPIError) -> [ClerkListItem<ClerkOrganization>] {
        let body = try page("organizations", organizations, limit: limit, offset: offset) { #"{"data":[\#($0)],"total_count":0}"# }
        return try ClerkListPage.items(ClerkOrganization.self, ofDataIn: body)
    }

    func membershipsWithJSON(organizationId: String, limit: Int, offset: Int, deadlineMs: Int64) throws(ClerkAPIError)
        -> [ClerkListItem<ClerkMembership>]
    {
        let body = try page(organizationId, memberships[organizationId] ?? [], limit: limit, offset: offset) {
            #"{"data":[\#($0)],"total_count":0}"#
        }
        return try ClerkListPage.items(ClerkMembership.self, ofDataIn: body)
    }

    /// Clerk Billing subscription items, newest first, as the Backend API lists them.
    var billingItems: [String] = []
    /// Thrown by the billing list instead of a page (an instance without Billing).
    var billingError: ClerkAPIError?

    func billingItemsWithJSON(limit: Int, offset: Int, deadlineMs: Int64) throws(ClerkAPIError) -> [ClerkListItem<ClerkBillingItem>] {
        if let billingError { throw billingError }
        let body = try page("billing", billingItems, limit: limit, offset: offset) { #"{"data":[\#($0)],"total_count":0}"# }
        return try ClerkListPage.items(ClerkBillingItem.self, ofDataIn: body)
    }

    /// The reads of `list`, by offset.
    func offsets(_ list: String) -> [Int] { reads.filter { $0.list == list }.map(\.offset) }

    private func page(_ list: String, _ items: [String], limit: Int, offset: Int, wrap: (String) -> String) throws(ClerkAPIError)
        -> [UInt8]
    {
        let read = Read(list: list, offset: offset, limit: limit)
        reads.append(read)
        try beforeRead?(read)
        if let raw = rawPages[list]?[offset] { return Array(raw.utf8) }
        return Array(wrap(items.dropFirst(max(offset, 0)).prefix(max(limit, 0)).joined(separator: ",")).utf8)
    }

    /// A user as Clerk lists it, created at `created` (ms), updated at `updated`.
    static func user(_ id: String, created: Int64, updated: Int64 = 1_000) -> String {
        #"{"object":"user","id":"\#(id)","first_name":"Ada","email_addresses":[{"id":"idn_\#(id)","email_address":"\#(id)@example.com"}],"primary_email_address_id":"idn_\#(id)","created_at":\#(created),"updated_at":\#(updated)}"#
    }

    /// An organization as Clerk lists it.
    static func organization(_ id: String, created: Int64, updated: Int64 = 1_000) -> String {
        #"{"object":"organization","id":"\#(id)","name":"N \#(id)","slug":"\#(id)","public_metadata":{},"created_at":\#(created),"updated_at":\#(updated)}"#
    }

    /// A membership of `org` for `user` as Clerk lists it.
    static func membership(_ id: String, org: String, user: String, created: Int64, updated: Int64 = 1_000) -> String {
        #"{"object":"organization_membership","id":"\#(id)","role":"org:member","permissions":["org:sys_profile:read"],"organization":{"id":"\#(org)"},"public_user_data":{"user_id":"\#(user)"},"created_at":\#(created),"updated_at":\#(updated)}"#
    }
}

/// A clock a test moves by hand: the backfill's deadline is measured against it.
final class ScriptedClock: @unchecked Sendable {
    var nowMs: Int64 = 1_000_000_000
}
