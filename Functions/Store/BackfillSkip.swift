/// An item a backfill set aside instead of applying: counted (`BackfillCounts.skipped`), logged by id and
/// reason, and kept with its body in `queue_rejects` for a person to look at, so one bad item never stops a run.
public struct BackfillSkip: Sendable, Equatable {
    /// Which list it came from (also its `backfill_seen` kind).
    public enum Kind: String, Sendable {
        case user, organization, membership
        case billingItem = "billing_item"
    }

    /// Which list it came from.
    public var kind: Kind
    /// Its Clerk id, when it has a valid one.
    public var clerkId: String?
    /// `missing_id`, `invalid_id`, `undecodable` (Clerk's item is not the documented shape) or `data_error`
    /// (PostgreSQL refused it, SQLSTATE class 22).
    public var reason: String
    /// The field and what was wrong with it, or the SQLSTATE; never a value.
    public var detail: String
    /// The item as Clerk sent it (NUL removed when kept).
    public var body: String

    /// Describes a skipped item.
    public init(kind: Kind, clerkId: String?, reason: String, detail: String, body: String) {
        self.kind = kind
        self.clerkId = clerkId
        self.reason = reason
        self.detail = detail
        self.body = body
    }

    /// The reason as `queue_rejects` keeps it: `data_error 22008` (as webhooks write it), else `reason: detail`.
    public var keptReason: String { reason == "data_error" ? "data_error " + detail : reason + ": " + detail }
}
