/// Where a backfill pass stands in one of Clerk's lists (read oldest first): the offset to read from next,
/// and the last item applied (its id and `created_at`), saved with the work in one transaction.
///
/// The offset alone is only a hint: an item Clerk deletes before it shifts every later item one place back,
/// and a pass that resumed at the bare offset skipped one item per deletion. The anchor lets the next read
/// check where it landed and step back when it overshot (`BackfillCursor+Paging`).
public struct BackfillCursor: Sendable, Hashable {
    /// The offset just past the anchor when it was read.
    public var offset: Int
    /// The `id` of the last item applied; nil before the first.
    public var anchorId: String?
    /// The anchor's `created_at` (ms), the list's order.
    public var anchorCreatedMs: Int64?

    /// A cursor at `offset`, after `anchorId` (created at `anchorCreatedMs`).
    public init(offset: Int = 0, anchorId: String? = nil, anchorCreatedMs: Int64? = nil) {
        self.offset = offset
        self.anchorId = anchorId
        self.anchorCreatedMs = anchorCreatedMs
    }

    /// Whether an item was applied by this pass already: the anchor itself, or anything created before it.
    /// An item created in the same millisecond as the anchor counts as not applied: applying it again is a
    /// no-op (`unchanged`), skipping it could lose it.
    public func hasApplied(id: String, createdMs: Int64?) -> Bool {
        guard let anchorId else { return false }
        if id == anchorId { return true }
        guard let anchor = anchorCreatedMs, let created = createdMs else { return false }
        return created < anchor
    }
}
