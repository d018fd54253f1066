@testable import ClerkKit
import JSON
import LocalHosting
import LambdaRuntime
import XCTest

/// The claims reader: strict JSON, escapes, nesting, and wrong types refused.
final class JSONScannerTests: XCTestCase {
    func scan(_ text: String, descend: Set<String> = []) throws -> [String: JSONScanner.Value] {
        var out: [String: JSONScanner.Value] = [:]
        try JSONScanner.scan(Array(text.utf8), descend: descend) { out[$0] = $1 }
        return out
    }

    func testScalarsEscapesAndNesting() throws {
        let v = try scan(#"""
            { "s": "a\"b\\c\/d\n\u00e9\ud83d\ude80", "n": -1.5e3, "i": 42, "t": true, "f": false, "z": null,
              "arr": [1, {"x": [2, "]"]}, "}"], "o": {"id": "org_1", "deep": {"k": 1}}, "skip": {"id": "no"} }
            """#, descend: ["o"])
        XCTAssertEqual(v["s"], .string("a\"b\\c/d\né🚀"))
        XCTAssertEqual(v["n"], .number(-1500))
        XCTAssertEqual(v["i"], .number(42))
        XCTAssertEqual(v["t"], .bool(true))
        XCTAssertEqual(v["f"], .bool(false))
        XCTAssertEqual(v["z"], .null)
        XCTAssertEqual(v["arr"], .array)
        XCTAssertEqual(v["o.id"], .string("org_1"))
        XCTAssertEqual(v["o.deep"], .object)
        XCTAssertNil(v["skip.id"], "only named objects are entered")
    }

    func testMalformedInputIsRefused() {
        for bad in ["", "{", "{\"a\":}", "{\"a\":1,}", "{\"a\" 1}", "{\"a\":tru}", "{\"a\":\"x}", "{\"a\":\"\u{01}\"}",
                    "{\"a\":01x}", "{\"a\":1.}", "{\"a\":\"\\q\"}", "{\"a\":\"\\ud800\"}", "{} extra", "[1]", "{\"a\":[1,]}",
                    String(repeating: "{\"a\":", count: 513) + "1" + String(repeating: "}", count: 513)] {
            XCTAssertThrowsError(try scan(bad), bad)
        }
    }

    func testValidateAcceptsAnyValueAndRefusesEverythingElse() {
        for good in ["\"Seb\"", "[1, {\"a\": [true, null]}]", " 12.5e-3 ", "{}", "null"] {
            XCTAssertNoThrow(try JSONScanner.validate(Array(good.utf8)), good)
        }
        for bad in ["", "{not json", "[1,]", "\"unterminated", "1 2", "{\"a\":1}}"] {
            XCTAssertThrowsError(try JSONScanner.validate(Array(bad.utf8)), bad)
        }
    }

    func testClaimsOfTheWrongTypeMakeTheTokenMalformed() {
        XCTAssertThrowsError(try SessionClaims(payload: Array(#"{"sub":123,"exp":1}"#.utf8)))
        XCTAssertThrowsError(try SessionClaims(payload: Array(#"{"sub":"u","exp":"1"}"#.utf8)))
        XCTAssertNoThrow(try SessionClaims(payload: Array(#"{"sub":"u","exp":1,"azp":null,"custom":{"a":[1]}}"#.utf8)))
    }

    /// Issue 10, item 6: every document has one reading. Each of these was accepted before.
    func testOneSpellingOneMeaning() {
        let bad: [[UInt8]] = [
            Array(#"{"sub":"a","sub":"b"}"#.utf8),                       // duplicate name: first or last?
            Array(#"{"o":{"id":"x","id":"y"}}"#.utf8),                   // ... in a nested object too
            Array(#"{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10,"k":11,"l":12,"m":13,"n":14,"o":15,"p":16,"q":17,"a":18}"#.utf8),
            Array(#"{"exp":1e400}"#.utf8), Array(#"{"exp":-1e400}"#.utf8),  // infinity: never expires
            Array(#"{"exp":01}"#.utf8), Array(#"{"exp":-00.5}"#.utf8), Array(#"{"exp":00}"#.utf8),
            Array(#"{"s":""#.utf8) + [0xFF] + Array(#""}"#.utf8),         // invalid UTF-8, fast path
            Array(#"{"s":"\n"#.utf8) + [0xC3] + Array(#""}"#.utf8),       // a truncated sequence after an escape
            Array(#"{"s":""#.utf8) + [0xED, 0xA0, 0x80] + Array(#""}"#.utf8),  // an encoded surrogate
            Array(#"{"s":"\udc00"}"#.utf8),                               // a lone low surrogate
        ]
        for doc in bad {
            XCTAssertThrowsError(try JSONScanner.scan(doc) { _, _ in }, "\(String(decoding: doc, as: UTF8.self))")
        }
        XCTAssertThrowsError(try JSONScanner.validate(Array(#"[{"a":1,"a":1}]"#.utf8)))
        XCTAssertThrowsError(try JSONScanner.validate(Array("1e999".utf8)))
        for good in [#"{"a":0,"b":-0,"c":0.5,"d":10,"e":1e300,"f":"é😀","g":{"a":1},"h":[{"a":1},{"a":2}]}"#] {
            XCTAssertNoThrow(try JSONScanner.scan(Array(good.utf8)) { _, _ in }, good)
        }
    }

    func testArrayElementRangesCutEachElementAsSent() throws {
        let page = Array(#" [ {"id":"user_1","n":[1,2]} , "x\"]" ,3,null,{"a":{"b":[]}}] "#.utf8)
        let parts = try JSONScanner.arrayElementRanges(page).map { String(decoding: page[$0], as: UTF8.self) }
        XCTAssertEqual(parts, [#"{"id":"user_1","n":[1,2]}"#, #""x\"]""#, "3", "null", #"{"a":{"b":[]}}"#])
        XCTAssertEqual(try JSONScanner.arrayElementRanges(Array("[]".utf8)), [])
        for bad in ["{}", "[1,]", "[1 2]", "[", #"[{"a":1,"a":2}]"#, "[01]"] {
            XCTAssertThrowsError(try JSONScanner.arrayElementRanges(Array(bad.utf8)), bad)
        }
    }
}
