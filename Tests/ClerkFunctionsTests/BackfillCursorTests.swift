import Store
import XCTest

@testable import ClerkFunctions

/// `BackfillCursor` paging over a list that changes between reads, as Clerk's does: a pass applies every
/// item that exists throughout it, whatever Clerk deletes or adds in between, and never loops.
final class BackfillCursorTests: XCTestCase {
    struct Item: Equatable {
        var id: String
        var created: Int64
    }

    /// A list read oldest first by offset, like `GET /v1/users?order_by=+created_at`.
    final class List {
        var items: [Item]
        var reads = 0
        /// Runs before each read with that read's number (from 1): Clerk changing between two requests.
        var beforeRead: (Int) -> Void = { _ in }
        init(_ n: Int, created: (Int) -> Int64 = { Int64($0) * 10 }) { items = (0..<n).map { Item(id: "i\($0)", created: created($0)) } }
        func page(_ offset: Int, _ size: Int) -> [Item] {
            reads += 1
            beforeRead(reads)
            return Array(items.dropFirst(offset).prefix(size))
        }
        func remove(_ ids: Set<String>) { items.removeAll { ids.contains($0.id) } }
    }

    static func key(_ item: Item) -> (id: String, createdMs: Int64?) { (item.id, item.created) }

    /// Reads and applies up to `pages` pages from `cursor` (all when nil); returns the cursor and the ids applied.
    func pass(_ list: List, from cursor: BackfillCursor, pageSize: Int, pages: Int? = nil) throws -> (BackfillCursor, [String]) {
        var cursor = cursor
        var applied: [String] = []
        var count = 0
        while pages.map({ count < $0 }) ?? true {
            XCTAssertLessThan(list.reads, 10_000, "the pass loops")
            if list.reads >= 10_000 { break }
            let read = try cursor.read(pageSize: pageSize, key: Self.key) { list.page($0, pageSize) }
            applied += read.fresh.map { read.page[$0].id }
            cursor = cursor.advanced(pastAllOf: read, key: Self.key)
            count += 1
            if read.page.count < pageSize { break }
        }
        return (cursor, applied)
    }

    func testAnUnchangedListIsReadOnceWithOneItemOfOverlapPerPage() throws {
        let list = List(25)
        let (_, applied) = try pass(list, from: BackfillCursor(), pageSize: 10)
        XCTAssertEqual(applied, list.items.map(\.id))
        XCTAssertEqual(list.reads, 3, "0..9, 9..18, 18..24")
    }

    /// The bug this cursor fixes: resumed at the bare offset, a pass skipped one item per deletion before it.
    func testDeletionsBeforeAPausedPassSkipNothing() throws {
        let list = List(30)
        let (paused, first) = try pass(list, from: BackfillCursor(), pageSize: 10, pages: 1)
        XCTAssertEqual(first.count, 10)
        list.remove(["i2", "i5", "i9"])  // i9 is the anchor
        let (_, rest) = try pass(list, from: paused, pageSize: 10)
        XCTAssertEqual(Set(first + rest), Set((0..<30).map { "i\($0)" }))
        XCTAssertEqual(rest.first, "i10", "nothing applied twice: \(rest)")
        XCTAssertEqual(rest.count, 20)
    }

    func testMoreDeletionsThanAPageStepBackPageByPage() throws {
        let list = List(100)
        let (paused, first) = try pass(list, from: BackfillCursor(), pageSize: 10, pages: 5)
        list.remove(Set((3..<40).map { "i\($0)" }))
        let (_, rest) = try pass(list, from: paused, pageSize: 10)
        XCTAssertEqual(Set(first + rest), Set((0..<100).map { "i\($0)" }))
        XCTAssertTrue(Set(first).isDisjoint(with: rest), "no item twice")
        XCTAssertEqual(first.count + rest.count, 100)
    }

    func testDeletionsAfterTheCursorAndAdditionsAreReadAtTheEnd() throws {
        let list = List(30)
        let (paused, first) = try pass(list, from: BackfillCursor(), pageSize: 10, pages: 1)
        list.remove(["i15", "i16"])
        list.items.append(Item(id: "new", created: 1_000))
        let (_, rest) = try pass(list, from: paused, pageSize: 10)
        XCTAssertEqual(first + rest, (0..<30).filter { $0 != 15 && $0 != 16 }.map { "i\($0)" } + ["new"])
    }

    func testDeletionsBetweenTwoReadsOfOneRunSkipNothing() throws {
        let list = List(40)
        var cursor = BackfillCursor()
        var applied: [String] = []
        for step in 0..<10 {
            let read = try cursor.read(pageSize: 10, key: Self.key) { list.page($0, 10) }
            applied += read.fresh.map { read.page[$0].id }
            cursor = cursor.advanced(pastAllOf: read, key: Self.key)
            if step == 0 { list.remove(["i0", "i1", "i8"]) }
            if read.page.count < 10 { break }
        }
        XCTAssertEqual(applied, (0..<40).map { "i\($0)" })
    }

    /// Items created in the same millisecond as the anchor are applied again (a no-op), not skipped.
    func testTiesOnCreatedAtAreAppliedAgainNeverSkipped() throws {
        let list = List(30) { Int64($0 / 6) }  // six items per millisecond
        let (paused, first) = try pass(list, from: BackfillCursor(), pageSize: 10, pages: 1)
        list.remove(["i0", "i1"])
        let (_, rest) = try pass(list, from: paused, pageSize: 10)
        XCTAssertEqual(Set(first + rest), Set((0..<30).map { "i\($0)" }))
    }

    /// A run saved before the cursor had an anchor (offset only) starts over: nothing it did is lost, the
    /// work is applied again as `unchanged`.
    func testAnOffsetWithoutAnAnchorStartsOver() throws {
        let list = List(30)
        let (_, applied) = try pass(list, from: BackfillCursor(offset: 20), pageSize: 10)
        XCTAssertEqual(applied, (0..<30).map { "i\($0)" })
        XCTAssertEqual(list.reads, 4, "straight to the start, then 0, 9, 18, 27")
    }

    /// Items with one `created_at` listed in a new order on every request (nothing promises their order): the
    /// walk, as the run pages every list, stops with an error after a bounded number of requests, neither looping
    /// nor ending as if it had read the list. A `read` alone, repeated, goes round for good (it has no memory of
    /// the positions it reached); only `walk` has, so that is what is tested. Each order is drawn from a seeded
    /// generator, its seed in every message, so a failing one is the same on every run.
    func testTiesListedInANewOrderEachTimeStopTheRunInsteadOfLooping() throws {
        for seed in UInt64(1)...100 {
            var rng = SplitMix64(seed: seed)
            let list = List(30) { _ in 5 }
            list.beforeRead = { _ in list.items.shuffle(using: &rng) }
            var stopped: (any Error)?
            do {
                let walked = try BackfillCursor().walk(pageSize: 3, key: Self.key, canRead: { list.reads < 1_000 }) {
                    list.page($0, 3)
                } apply: { read, from in
                    from.advanced(pastAllOf: read, key: Self.key)
                }
                XCTFail("seed \(seed): the walk ended (finished: \(walked.finished)) at \(walked.cursor) after \(list.reads) requests")
            } catch {
                stopped = error
            }
            let error = try XCTUnwrap(stopped as? BackfillListUnsettled, "seed \(seed): \(String(describing: stopped))")
            XCTAssertTrue(error.description.contains("the next run resumes"), "seed \(seed): \(error.description)")
            XCTAssertLessThan(list.reads, 1_000, "seed \(seed): no request storm")
        }
    }

    /// A Backend API that ignores `offset` (the same page every time) ends the read with an error.
    func testAnAnswerThatIgnoresTheOffsetEndsWithAnError() throws {
        let list = List(30)
        let (paused, _) = try pass(list, from: BackfillCursor(), pageSize: 10, pages: 2)
        XCTAssertThrowsError(try paused.read(pageSize: 10, key: Self.key) { _ in list.page(0, 10) }) { error in
            XCTAssertTrue(error is BackfillListUnsettled, "\(error)")
        }
        XCTAssertLessThan(list.reads, 30)
    }

    /// An answer that ignores `offset` over items sharing one `created_at` (an import): `created_at` cannot
    /// tell what was applied, each read offers again what the last ones did, and the walk stops instead of
    /// reading until the deadline.
    func testAWalkOverTiesThatIgnoresTheOffsetStops() throws {
        let list = List(30) { _ in 5 }
        var applied = 0
        XCTAssertThrowsError(
            try BackfillCursor().walk(pageSize: 3, key: Self.key, canRead: { list.reads < 1_000 }) { _ in
                list.page(0, 3)
            } apply: { read, from in
                applied += read.fresh.count
                return from.advanced(pastAllOf: read, key: Self.key)
            }
        ) { error in
            XCTAssertTrue(error is BackfillListUnsettled, "\(error)")
        }
        XCTAssertLessThan(list.reads, 50, "bounded")
    }

    /// `walk` reads to the end, stops when `apply` says so or when `canRead` does, and says which.
    func testAWalkEndsAtTheListsEndOrWhenToldTo() throws {
        let list = List(25)
        var applied: [String] = []
        let whole = try BackfillCursor().walk(pageSize: 10, key: Self.key, canRead: { true }) {
            list.page($0, 10)
        } apply: { read, from in
            applied += read.fresh.map { read.page[$0].id }
            return from.advanced(pastAllOf: read, key: Self.key)
        }
        XCTAssertTrue(whole.finished)
        XCTAssertEqual(applied, list.items.map(\.id))
        XCTAssertEqual(whole.cursor.anchorId, "i24")
        let stopped = try BackfillCursor().walk(pageSize: 10, key: Self.key, canRead: { true }) {
            list.page($0, 10)
        } apply: { _, _ in
            nil
        }
        XCTAssertFalse(stopped.finished)
        XCTAssertEqual(stopped.cursor, BackfillCursor(), "nothing applied, nothing moved")
        let reads = list.reads
        let noTime = try BackfillCursor().walk(pageSize: 10, key: Self.key, canRead: { false }) {
            list.page($0, 10)
        } apply: { _, c in
            c
        }
        XCTAssertFalse(noTime.finished)
        XCTAssertEqual(list.reads, reads, "no request without time for it")
    }

    /// An item listed after the anchor is applied even when its `created_at` is older (a list out of order).
    func testAnItemAfterTheAnchorIsAppliedWhateverItsCreatedAt() throws {
        let list = List(30)
        let (paused, first) = try pass(list, from: BackfillCursor(), pageSize: 10, pages: 1)
        list.items[10].created = 1
        let (_, rest) = try pass(list, from: paused, pageSize: 10)
        XCTAssertEqual(first + rest, (0..<30).map { "i\($0)" })
    }

    func testTheAnchorDeletedAtTheListsEndFinishes() throws {
        let list = List(20)
        let (paused, _) = try pass(list, from: BackfillCursor(), pageSize: 10, pages: 2)
        XCTAssertEqual(paused.anchorId, "i18")
        list.remove(["i18", "i19"])
        let (_, rest) = try pass(list, from: paused, pageSize: 10)
        XCTAssertEqual(rest, [])
    }

    func testAPageSizeOfOneIsRaisedToTwo() throws {
        let list = List(5)
        var cursor = BackfillCursor()
        var applied: [String] = []
        while true {
            let read = try cursor.read(pageSize: 1, key: Self.key) { list.page($0, 2) }
            applied += read.fresh.map { read.page[$0].id }
            cursor = cursor.advanced(pastAllOf: read, key: Self.key)
            if read.page.count < 2 || list.reads > 100 { break }
        }
        XCTAssertEqual(applied, (0..<5).map { "i\($0)" })
    }

    /// One `read` may take several requests (back a page, then forward): an item deleted between two of
    /// them moves the list back under the next offset, and paging forward without checking where it
    /// landed skipped the item after it (i5 here).
    func testADeletionBetweenTheRequestsOfOneReadSkipsNothing() throws {
        let list = List(7)
        let (paused, first) = try pass(list, from: BackfillCursor(), pageSize: 3, pages: 2)
        XCTAssertEqual(paused.anchorId, "i4")
        list.remove(["i2"])
        // Read 3 lands past the anchor and steps back; read 4 finds that page applied and pages forward.
        list.beforeRead = { if $0 == 5 { list.remove(["i4"]) } }
        let (_, rest) = try pass(list, from: paused, pageSize: 3)
        XCTAssertEqual(Set(first + rest), Set((0..<7).map { "i\($0)" }), "rest: \(rest)")
    }

    /// Model check: small lists (sometimes many items per millisecond), paged by runs of every kind (a page
    /// per step like users, an item per step like organizations, paused and resumed), while Clerk deletes,
    /// appends and imports (inserts with an older `created_at`) between any two requests. Every item that
    /// exists throughout a pass is applied, and a pass ends within a bounded number of requests.
    func testRandomEditsBetweenReadsNeverSkipAnItemThatStayed() throws {
        var rng = SplitMix64(seed: 0xC1E4)
        for trial in 0..<20_000 {
            let pageSize = Int.random(in: 2...4, using: &rng)
            let ties = Bool.random(using: &rng)
            var made = 0
            func item(_ created: Int64) -> Item {
                made += 1
                return Item(id: "i\(made)", created: created)
            }
            let list = List(0)
            list.items = (0..<Int.random(in: 0...12, using: &rng)).map { n in item(ties ? Int64.random(in: 0...4, using: &rng) : Int64(n) * 10) }
            list.items.sort { $0.created < $1.created }
            let stayed = Set(list.items.map(\.id))
            var gone = Set<String>()
            var edits: [String] = []
            list.beforeRead = { _ in
                guard Bool.random(using: &rng) else { return }
                for _ in 0..<Int.random(in: 0...3, using: &rng) {
                    if Double.random(in: 0..<1, using: &rng) < 0.6, !list.items.isEmpty {
                        let removed = list.items.remove(at: Int.random(in: 0..<list.items.count, using: &rng))
                        gone.insert(removed.id)
                        edits.append("-\(removed.id)")
                    } else {
                        // An import with its own created_at goes among the others; a sign-up goes last.
                        let created = Bool.random(using: &rng) ? Int64.random(in: 0...(ties ? 4 : 120), using: &rng) : 1_000 + Int64(made)
                        let new = item(created)
                        list.items.insert(new, at: list.items.firstIndex { $0.created > created } ?? list.items.count)
                        edits.append("+\(new.id)@\(created)")
                    }
                }
            }
            let perItem = Bool.random(using: &rng)
            var applied = Set<String>()
            // Through `walk`, as the backfill pages every list; the cursor is all that carries over between reads.
            let walked: (cursor: BackfillCursor, finished: Bool)
            do {
                walked = try BackfillCursor().walk(pageSize: pageSize, key: Self.key, canRead: { list.reads < 1_000 }) {
                    list.page($0, pageSize)
                } apply: { read, from in
                    guard perItem else {
                        applied.formUnion(read.fresh.map { read.page[$0].id })
                        return from.advanced(pastAllOf: read, key: Self.key)
                    }
                    var cursor = from
                    for i in read.fresh {
                        applied.insert(read.page[i].id)
                        cursor = cursor.advanced(past: i, of: read, id: read.page[i].id, createdMs: read.page[i].created)
                    }
                    return cursor
                }
            } catch {
                return XCTFail("trial \(trial), page size \(pageSize), edits \(edits): \(error)")
            }
            XCTAssertTrue(walked.finished, "trial \(trial) loops")
            XCTAssertLessThan(list.reads, 1_000, "trial \(trial) loops")
            let skipped = stayed.subtracting(gone).subtracting(applied)
            XCTAssertEqual(skipped, [], "trial \(trial), page size \(pageSize), edits \(edits)")
            if !skipped.isEmpty { return }
        }
    }
}

/// A small seeded generator, so that a failing trial is the same on every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
