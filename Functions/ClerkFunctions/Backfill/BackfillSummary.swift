import ClerkKit
import JSON
import LambdaRuntime
import Store

/// What a backfill did, as the one summary line prints it.
public struct BackfillSummary: Sendable, Encodable {
    /// Users, by what happened to each.
    public var users = BackfillCounts()
    /// Organizations, likewise.
    public var organizations = BackfillCounts()
    /// Memberships, likewise.
    public var memberships = BackfillCounts()
    /// Clerk Billing subscription items, likewise.
    public var billing = BackfillCounts()
    /// Whether the instance answered that Billing is not enabled (404/403 on its items list): counted, not a failure.
    public var billingUnavailable = false
    /// Live local rows that Clerk no longer has (reported, never deleted); known once a pass is complete.
    public var missingInClerk = 0
    /// Whether the run reached the end (a function invocation may stop at its deadline and resume later).
    public var complete = false

    /// `{"users":{…},"organizations":{…},"memberships":{…},"missingInClerk":N,"complete":true}`.
    public var json: String {
        (try? String(decoding: JSONCoding.encoder.encode(self), as: UTF8.self)) ?? "{}"
    }
}
