@testable import ClerkFunctions
import Store
import XCTest

/// `BackfillCursor` paging over a list that changes between reads, as Clerk's does: a pass applies every
/// item that exists throughout it, whatever Clerk deletes or adds in between, and never loops.
final class BackfillCursorTests: XCTestCase {
    struct Item: Equatable { var id: String; var created: Int64 }

    /// A list read oldest first by offset, like `GET /v1/users?order_by=+created_at`.
    final class List {
        var items: [Item]
        var reads = 0
        init(_ n: Int, created: (Int) -> Int64 = { Int64($0) * 10 }) { items = (0..<n).map { Item(id: "i\($0)", created: created($0)) } }
        func page(_ offset: Int, _ size: Int) -> [Item] { reads += 1; return Array(items.dropFirst(offset).prefix(size)) }
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
}
