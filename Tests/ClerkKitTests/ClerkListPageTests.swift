import JSON
import XCTest

@testable import ClerkKit

/// A Backend API list page cut into items by structure, each read strictly on its own: one bad item is
/// refused alone, only a page that is not a list at all is an error.
final class ClerkListPageTests: XCTestCase {
    func text(_ bytes: [UInt8], _ r: Range<Int>) -> String { String(decoding: bytes[r], as: UTF8.self) }

    func testElementsAndMembersAreFoundWhateverIsInsideThem() throws {
        let page = Array(#" [ {"a":1,"a":2} , "x\"]" ,[1,{"b":"]}"}], 01, nul\#u{0}l, {"c":"\#u{1}"} ] "#.utf8)
        let ranges = try JSONScanner.elementRanges(byStructureOf: page)
        XCTAssertEqual(
            ranges.map { text(page, $0) },
            [#"{"a":1,"a":2}"#, #""x\"]""#, #"[1,{"b":"]}"}]"#, "01", "nul\u{0}l", "{\"c\":\"\u{1}\"}"])
        let object = Array(#"{"data":[1,{"x":"}"}],"total_count":"n","data\u0041":{},"\ud800":null}"#.utf8)
        let members = try JSONScanner.members(byStructureOf: object)
        XCTAssertEqual(members.map(\.name), ["data", "total_count", "dataA", nil], "a name that is not a strict string is nil")
        XCTAssertEqual(members.map { text(object, $0.value) }, [#"[1,{"x":"}"}]"#, #""n""#, "{}", "null"])
        let inner = try XCTUnwrap(members.first?.value)
        XCTAssertEqual(try JSONScanner.elementRanges(byStructureOf: object, in: inner).map { text(object, $0) }, ["1", #"{"x":"}"}"#])
    }

    func testAStructureThatDoesNotHoldIsRefused() {
        for bad in [
            "", "[", "[1,]", "[,1]", "[1 2]", "[{]", "[{\"a\":1]}", "[\"x]", "[1] 2", "{\"a\":1", "{\"a\" 1}", "{1:2}",
            "{\"a\":}", "[[[[]]]", "]", "{}", "{\"a\":[}]}"
        ] {
            XCTAssertThrowsError(try JSONScanner.elementRanges(byStructureOf: Array(bad.utf8)), bad)
        }
        for bad in ["", "{", "{\"a\":1,}", "{\"a\" 1}", "{1:2}", "{\"a\":}", "[]", "{\"a\":[}]}", "{} x"] {
            XCTAssertThrowsError(try JSONScanner.members(byStructureOf: Array(bad.utf8)), bad)
        }
        XCTAssertThrowsError(try JSONScanner.elementRanges(byStructureOf: Array("[1]".utf8), in: 0..<9))
    }

    /// Nesting far past the strict limit is one element to skip, not a stack to overflow.
    func testDeepNestingIsSkippedWithoutRecursion() throws {
        let deep = String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000)
        let page = Array(("[" + deep + ",{\"id\":\"user_1\"}]").utf8)
        let items = try ClerkListPage.items(ClerkUser.self, ofArray: page)
        XCTAssertEqual(items.count, 2)
        guard case .refused(let refused) = items.first else { return XCTFail("\(items)") }
        XCTAssertEqual(refused.reason, "missing_id")
        guard case .decoded(let user, _) = items.last else { return XCTFail("\(items)") }
        XCTAssertEqual(user.id, "user_1")
    }

    func testEachBadItemIsRefusedAloneWithWhatCanBeReadOfIt() throws {
        let page = Array(
            """
            [{"id":"user_ok","created_at":5,"first_name":"A"},
             {"id":"user_dup","created_at":6,"unsafe_metadata":{"k":1,"k":2}},
             {"id":"user_type","created_at":"yesterday"},
             {"created_at":8,"first_name":"no id"},
             {"id":"user_<script>","created_at":9},
             {"id":"user_a","id":"user_b","created_at":10},
             null, 42, "user_str",
             {"id":"user_utf","first_name":"\u{1}"}]
            """.utf8)
        let items = try ClerkListPage.items(ClerkUser.self, ofArray: page)
        XCTAssertEqual(items.count, 10)
        guard case .decoded(let ok, let json) = items[0] else { return XCTFail("\(items[0])") }
        XCTAssertEqual(ok.id, "user_ok")
        XCTAssertEqual(json, #"{"id":"user_ok","created_at":5,"first_name":"A"}"#, "the item as Clerk sent it")
        let refused = items.dropFirst().compactMap { item -> ClerkRefusedItem? in
            if case .refused(let r) = item { return r }
            return nil
        }
        XCTAssertEqual(refused.count, 9)
        XCTAssertEqual(refused.map(\.id), ["user_dup", "user_type", nil, nil, nil, nil, nil, nil, "user_utf"])
        XCTAssertEqual(
            refused.map(\.reason),
            [
                "undecodable", "undecodable", "missing_id", "invalid_id", "undecodable",
                "missing_id", "missing_id", "missing_id", "undecodable"
            ])
        XCTAssertEqual(refused.map(\.createdAt), [6, nil, 8, 9, 10, nil, nil, nil, nil])
        XCTAssertEqual(refused[1].detail, "expected Int64 at created_at")
        XCTAssertTrue(refused.allSatisfy { !$0.detail.contains("yesterday") && !$0.detail.contains("script") }, "no value in a reason")
        // An item without an id gets a stand-in key from its bytes: the same item, the same key; never a Clerk id.
        XCTAssertTrue(refused[2].key.hasPrefix("~"))
        XCTAssertNotEqual(refused[2].key, refused[3].key)
        XCTAssertEqual(refused[2].key, (try ClerkListPage.items(ClerkUser.self, ofArray: page))[3].key.id)
        XCTAssertEqual(refused[0].key, "user_dup")
    }

    /// A membership's user id goes into keys and paths as its own id does: one outside Clerk's alphabet refuses that
    /// membership (`invalid_id`, named by its own id), and the page's other members stand.
    func testAMembershipWhoseUserIdIsNotAClerkIdIsRefusedAlone() throws {
        func member(_ id: String, user: String) -> String {
            #"{"object":"organization_membership","id":"\#(id)","role":"org:member","permissions":[],"created_at":5,"updated_at":5,"organization":{"id":"org_1"},"public_user_data":{"user_id":"\#(user)"}}"#
        }
        let page = Array(#"{"data":[\#(member("orgmem_ok", user: "user_1")),\#(member("orgmem_bad", user: "user_1/../../x"))],"total_count":2}"#.utf8)
        let items = try ClerkListPage.items(ClerkMembership.self, ofDataIn: page)
        XCTAssertEqual(items.map(\.key.id), ["orgmem_ok", "orgmem_bad"])
        guard case .decoded(let ok, _) = items[0] else { return XCTFail("\(items[0])") }
        XCTAssertEqual(ok.userId, "user_1")
        guard case .refused(let refused) = items[1] else { return XCTFail("\(items[1])") }
        XCTAssertEqual(refused.id, "orgmem_bad")
        XCTAssertEqual(refused.reason, "invalid_id")
        XCTAssertEqual(refused.detail, "a referenced id is not a Clerk id")
    }

    func testDataPagesAndTheirShape() throws {
        let org = #"{"id":"org_1","name":"A","created_at":1}"#
        let page = Array(#"{"data":[\#(org),{"id":"org_2","name":7}],"total_count":2}"#.utf8)
        let items = try ClerkListPage.items(ClerkOrganization.self, ofDataIn: page)
        XCTAssertEqual(items.map(\.key.id), ["org_1", "org_2"])
        guard case .decoded(_, let json) = items[0] else { return XCTFail("\(items)") }
        XCTAssertEqual(json, org)
        for bad in [#"[]"#, #"{"total_count":0}"#, #"{"data":{}}"#, #"{"data":[],"data":[]}"#, #"{"data":[}"#, "", #"{"data":"[]"}"#] {
            XCTAssertThrowsError(try ClerkListPage.items(ClerkOrganization.self, ofDataIn: Array(bad.utf8)), bad) { error in
                XCTAssertTrue("\(error)".contains("not the documented shape"), "\(error)")
            }
        }
        XCTAssertThrowsError(try ClerkListPage.items(ClerkUser.self, ofArray: Array(#"{"data":[]}"#.utf8)))
        // A member whose user id is not a Clerk id is refused (it would go into keys).
        let member = #"{"id":"orgmem_1","organization":{"id":"org_1"},"public_user_data":{"user_id":"user 1"}}"#
        let members = try ClerkListPage.items(ClerkMembership.self, ofDataIn: Array(#"{"data":[\#(member)]}"#.utf8))
        guard case .refused(let refused) = members.first else { return XCTFail("\(members)") }
        XCTAssertEqual(refused.reason, "invalid_id")
        XCTAssertEqual(refused.id, "orgmem_1")
    }
}
