import JSON
import XCTest

@testable import ClerkKit

/// Clerk's payloads on the scanner's rules: claims of the wrong type, and a user whose metadata names are
/// canonically equivalent.
final class ClerkPayloadJSONTests: XCTestCase {
    /// Names Swift calls equal and JSON does not (as in `JSONScannerTests`).
    static let equivalentPairs: [(String, String)] = [
        ("caf\u{E9}", "cafe\u{301}"), ("K", "\u{212A}"), ("\u{212B}", "\u{C5}"),
        ("a\u{301}\u{323}", "a\u{323}\u{301}")
    ]

    func testClaimsOfTheWrongTypeMakeTheTokenMalformed() {
        XCTAssertThrowsError(try SessionClaims(payload: Array(#"{"sub":123,"exp":1}"#.utf8)))
        XCTAssertThrowsError(try SessionClaims(payload: Array(#"{"sub":"u","exp":"1"}"#.utf8)))
        XCTAssertNoThrow(try SessionClaims(payload: Array(#"{"sub":"u","exp":1,"azp":null,"custom":{"a":[1]}}"#.utf8)))
    }

    /// Issue 19: a Clerk `user.updated` whose `unsafe_metadata` holds two canonically equivalent names
    /// decodes (it was `malformed_json`, 400 on every retry), and so does a Backend API page holding that
    /// user, as `ClerkBackendAPI.usersWithJSON` reads it (the backfill stopped on it, every run).
    func testAUserWithCanonicallyEquivalentMetadataNamesDecodes() throws {
        for (a, b) in Self.equivalentPairs {
            let user = #"""
                {"id":"user_1","object":"user","first_name":"Zo\#u{E9}","email_addresses":[],"updated_at":2,
                "unsafe_metadata":{"\#(a)":"first","\#(b)":{"\#(b)":1,"\#(a)":[2]}}}
                """#
            let decoded = try StrictJSONDecoder().decode(ClerkUser.self, from: Array(user.utf8))
            XCTAssertEqual(decoded.id, "user_1")
            XCTAssertEqual(decoded.firstName, "Zo\u{E9}")
            XCTAssertEqual(decoded.updatedAt, 2)
            let page = Array(#"[{"id":"user_0","email_addresses":[]},\#(user)]"#.utf8)
            XCTAssertEqual(try StrictJSONDecoder().decode([ClerkUser].self, from: page).map(\.id), ["user_0", "user_1"])
            let ranges = try JSONScanner.arrayElementRanges(page)
            XCTAssertEqual(ranges.count, 2)
            XCTAssertEqual(Array(page[try XCTUnwrap(ranges.last)]), Array(user.utf8))
        }
    }
}
