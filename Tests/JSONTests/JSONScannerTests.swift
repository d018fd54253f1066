import JSON
import XCTest

/// The scanner: strict JSON, escapes, nesting, one reading per document, names by their bytes, and element
/// ranges cut as sent.
final class JSONScannerTests: XCTestCase {
    func scan(_ text: String, descend: Set<String> = []) throws -> [String: JSONScanner.Value] {
        var out: [String: JSONScanner.Value] = [:]
        try JSONScanner.scan(Array(text.utf8), descend: descend) { out[$0] = $1 }
        return out
    }

    func testScalarsEscapesAndNesting() throws {
        let v = try scan(
            #"""
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
        for bad in [
            "", "{", "{\"a\":}", "{\"a\":1,}", "{\"a\" 1}", "{\"a\":tru}", "{\"a\":\"x}", "{\"a\":\"\u{01}\"}",
            "{\"a\":01x}", "{\"a\":1.}", "{\"a\":\"\\q\"}", "{\"a\":\"\\ud800\"}", "{} extra", "[1]", "{\"a\":[1,]}",
            String(repeating: "{\"a\":", count: 513) + "1" + String(repeating: "}", count: 513)
        ] {
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

    /// Issue 10, item 6: every document has one reading. Each of these was accepted before.
    func testOneSpellingOneMeaning() {
        let bad: [[UInt8]] = [
            Array(#"{"sub":"a","sub":"b"}"#.utf8),  // duplicate name: first or last?
            Array(#"{"o":{"id":"x","id":"y"}}"#.utf8),  // ... in a nested object too
            Array(#"{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10,"k":11,"l":12,"m":13,"n":14,"o":15,"p":16,"q":17,"a":18}"#.utf8),
            Array(#"{"exp":1e400}"#.utf8), Array(#"{"exp":-1e400}"#.utf8),  // infinity: never expires
            Array(#"{"exp":01}"#.utf8), Array(#"{"exp":-00.5}"#.utf8), Array(#"{"exp":00}"#.utf8),
            Array(#"{"s":""#.utf8) + [0xFF] + Array(#""}"#.utf8),  // invalid UTF-8, fast path
            Array(#"{"s":"\n"#.utf8) + [0xC3] + Array(#""}"#.utf8),  // a truncated sequence after an escape
            Array(#"{"s":""#.utf8) + [0xED, 0xA0, 0x80] + Array(#""}"#.utf8),  // an encoded surrogate
            Array(#"{"s":"\udc00"}"#.utf8)  // a lone low surrogate
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

    /// Issue 19: names are compared by their UTF-8 bytes. Swift's `String` equality is canonical
    /// equivalence, so "café" spelled with U+00E9 and with e + U+0301, or "K" and the KELVIN SIGN, were one
    /// name twice and the whole document was refused: a user's own `unsafe_metadata` froze their row.
    static let equivalentPairs: [(String, String)] = [
        ("caf\u{E9}", "cafe\u{301}"), ("K", "\u{212A}"), ("\u{212B}", "\u{C5}"),
        ("a\u{301}\u{323}", "a\u{323}\u{301}")
    ]

    /// `s` with every non-ASCII scalar (all in the BMP here) written as a `\uXXXX` escape.
    func escaped(_ s: String) -> String {
        s.unicodeScalars.map { u in
            guard !u.isASCII else { return String(u) }
            let hex = String(u.value, radix: 16)
            return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        }.joined()
    }

    func testCanonicallyEquivalentNamesAreDistinctMembers() throws {
        let filler = (0..<20).map { "\"f\($0)\":\($0)" }.joined(separator: ",")
        for (a, b) in Self.equivalentPairs {
            XCTAssertEqual(a, b, "Swift's String calls them equal")
            XCTAssertNotEqual(Array(a.utf8), Array(b.utf8))
            // Raw UTF-8 and \u escapes; a small object (names scanned) and a large one (names hashed).
            for doc in [
                #"{"\#(a)":1,"\#(b)":2}"#, #"{"\#(escaped(a))":1,"\#(escaped(b))":2}"#, "{\(filler),\"\(a)\":1,\"\(b)\":2}",
                #"{"o":{"\#(a)":1,"\#(b)":2}}"#, #"[{"\#(b)":1,"\#(escaped(a))":2}]"#
            ] {
                XCTAssertNoThrow(try JSONScanner.validate(Array(doc.utf8)), doc)
            }
            var seen: [[UInt8]: JSONScanner.Value] = [:]
            try JSONScanner.scan(Array("{\(filler),\"\(a)\":1,\"o\":{\"\(b)\":3,\"\(a)\":4},\"\(b)\":2}".utf8), descend: ["o"]) {
                seen[Array($0.utf8)] = $1
            }
            XCTAssertEqual(seen[Array(a.utf8)], .number(1))
            XCTAssertEqual(seen[Array(b.utf8)], .number(2))
            XCTAssertEqual(seen[Array(("o." + a).utf8)], .number(4))
            XCTAssertEqual(seen[Array(("o." + b).utf8)], .number(3))
            // The same bytes twice are still one name twice, however each was spelled (raw or escaped).
            for doc in [
                #"{"\#(a)":1,"\#(a)":2}"#, #"{"\#(escaped(b))":1,"\#(b)":2}"#, "{\(filler),\"\(a)\":1,\"\(escaped(a))\":2}",
                "{\"\(b)\":1,\(filler),\"\(b)\":2}"
            ] {
                XCTAssertThrowsError(try JSONScanner.validate(Array(doc.utf8)), doc)
                XCTAssertThrowsError(try JSONScanner.scan(Array(doc.utf8)) { _, _ in }, doc)
            }
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
