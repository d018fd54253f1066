import LambdaRuntime
import Store

/// A Backend API list that kept moving under the backfill's reads (items with equal `created_at` listed in a
/// different order on every request, or an answer that ignores `offset`): the run stops with its position
/// saved, rather than skip items silently or ask Clerk for pages forever.
public struct BackfillListUnsettled: LambdaReportableError, CustomStringConvertible {
    /// How many pages were asked for before it stopped.
    public let requests: Int
    public var errorType: String { "BackfillListUnsettled" }
    public var errorMessage: String { description }
    public var description: String {
        "Clerk's list did not settle after \(requests) page requests; the position is saved and the next run resumes there"
    }
}

extension BackfillCursor {
    /// Pages through a list from this cursor to its end: the one paging method of every Backend API list the
    /// backfill reads (users, organizations, an organization's memberships). `canRead` is asked before each
    /// read; each read with something not applied yet goes to `apply`, which applies what it takes and answers
    /// the cursor past it, or nil to stop here (the deadline, another process finished the pass). Returns the
    /// cursor reached and whether the list's end was reached.
    ///
    /// Each read is bounded (`read`); the walk also stops with `BackfillListUnsettled` when it reaches one
    /// position for the fourth time: an answer that ignores `offset` over items that share one `created_at`
    /// (which `created_at` cannot tell apart) sends it round in circles between two positions, and it would
    /// otherwise read until the deadline. A list that changes while it is read may bring it back to a position
    /// it left, but seldom to the same one again and again.
    func walk<Item>(
        pageSize: Int, key: (Item) -> (id: String, createdMs: Int64?), canRead: () -> Bool,
        fetch: (_ offset: Int) throws -> [Item],
        apply: (_ read: Read<Item>, _ from: BackfillCursor) throws -> BackfillCursor?
    ) throws
        -> (cursor: BackfillCursor, finished: Bool)
    {
        var cursor = self
        var requests = 0
        // One position per page read: a few thousand for a million users.
        var reached: [BackfillCursor: Int] = [self: 1]
        while true {
            guard canRead() else { return (cursor, false) }
            let read = try cursor.read(pageSize: pageSize, key: key) { offset in
                requests += 1
                return try fetch(offset)
            }
            guard let next = try apply(read, cursor) else { return (cursor, false) }
            cursor = next
            if read.page.count < max(pageSize, 2) { return (cursor, true) }
            let times = (reached[next] ?? 0) + 1
            guard times < 4 else { throw BackfillListUnsettled(requests: requests) }
            reached[next] = times
        }
    }

    /// One read of a Clerk list: where it started, the page Clerk returned, and the positions in it this pass
    /// has not applied yet (to apply now, in order).
    struct Read<Item> {
        /// The offset the page was read at.
        var start: Int
        /// The page as Clerk returned it.
        var page: [Item]
        /// Positions in `page` not applied yet.
        var fresh: [Int]
    }

    /// Reads the next page with something to apply, through `fetch(offset)` (at most `pageSize` items, oldest
    /// first); a page shorter than `pageSize` is the list's end.
    ///
    /// Clerk lists by offset only, so the cursor checks where each read lands:
    /// - it reads from one before `offset`, so a page that begins with the anchor proves nothing moved;
    /// - a page that begins with an item not yet applied (or an empty page) means items before it were
    ///   deleted and the list moved back under the offset: it steps back a page at a time until a page
    ///   begins with an applied item, or reaches the list's start; from there it reads on, page after page,
    ///   each one overlapping the last by an item and checked the same way, to the first page holding
    ///   something not applied;
    /// - otherwise (the anchor itself was deleted, or items were added) it keeps what is not applied.
    /// Items added after the pass began are read at the end of the list (oldest first), not skipped.
    func read<Item>(
        pageSize requested: Int, key: (Item) -> (id: String, createdMs: Int64?),
        fetch: (_ offset: Int) throws -> [Item]
    ) throws -> Read<Item> {
        // A page re-reads the anchor: it needs room for one more item.
        let pageSize = max(requested, 2)
        // A position saved before the anchor existed (an offset alone) cannot be checked: start over.
        var start = anchorId == nil ? 0 : max(offset - 1, 0)
        // Whether a page at or before `start` began with an applied item: nothing before `start` is unread.
        var placed = anchorId == nil
        // Stepping back to the start (a page at a time) and reading on to here again (a page less one at a time)
        // takes no more than this; more means the list is not holding still (see `BackfillListUnsettled`).
        let budget = offset / pageSize + offset / (pageSize - 1) + 8
        var requests = 0
        while true {
            guard requests < budget else { throw BackfillListUnsettled(requests: requests) }
            requests += 1
            let page = try fetch(start)
            // Within a page that holds the anchor, what follows it is not applied, whatever its `created_at`
            // says (a list out of `created_at` order must not hide it); elsewhere `created_at` tells.
            let anchorIndex = anchorId.flatMap { id in page.firstIndex { key($0).id == id } }
            let fresh = page.indices.filter { i in
                if let a = anchorIndex, i > a { return true }
                let k = key(page[i])
                return !hasApplied(id: k.id, createdMs: k.createdMs)
            }
            if !placed {
                let landedPastUnread = page.isEmpty || fresh.first == page.startIndex
                if start > 0 && landedPastUnread {
                    start = max(start - pageSize, 0)
                    continue
                }
                placed = true
            }
            if fresh.isEmpty && page.count >= pageSize {
                // On by the page less one: the next page must begin with this page's last (applied) item, or
                // an item Clerk deleted in between moved the list back under it and it steps back again
                // (paging on by a whole page skipped the item after each such deletion).
                start += page.count - 1
                placed = false
                continue
            }
            return Read(start: start, page: page, fresh: fresh)
        }
    }

    /// The cursor past position `index` of `read`, whose item is `id` created at `createdMs` (just applied).
    func advanced<Item>(past index: Int, of read: Read<Item>, id: String, createdMs: Int64?) -> BackfillCursor {
        BackfillCursor(offset: read.start + index + 1, anchorId: id, anchorCreatedMs: createdMs)
    }

    /// The cursor past the whole of `read`: anchored on its last fresh item (unchanged when the page, the
    /// list's end, held nothing new).
    func advanced<Item>(pastAllOf read: Read<Item>, key: (Item) -> (id: String, createdMs: Int64?)) -> BackfillCursor {
        guard let last = read.fresh.last else { return self }
        let k = key(read.page[last])
        return BackfillCursor(offset: read.start + read.page.count, anchorId: k.id, anchorCreatedMs: k.createdMs)
    }
}
