import FoundationEssentials
import JSON
import XCTest

/// `StrictJSONDecoder` and `CompactJSONEncoder`: round trips, Foundation's output byte for byte, every error
/// kind with its path, and hostile input (the strict scanner's rules).
final class JSONCodersTests: XCTestCase {
    enum Shape: Codable, Equatable {
        case circle(radius: Double)
        case rect(Int, Int)
        case point
    }

    struct Item: Codable, Equatable {
        var id: String
        var quantity: Int
        var tags: [String]
    }

    struct Order: Codable, Equatable {
        var id: Int64
        var big: UInt64
        var small: Int8
        var negative: Int
        var price: Double
        var ratio: Float
        var paid: Bool
        var note: String?
        var items: [Item]
        var grid: [[Int]]
        var shapes: [Shape]
        var meta: [String: String]
        var counts: [String: [Int]]
        var byNumber: [Int: String]
        var emptyList: [Int]
        var emptyMap: [String: Int]
        var nested: [String: [String: Item]]
    }

    static let order = Order(
        id: Int64.max, big: UInt64.max, small: -128, negative: -42, price: 19.99, ratio: 0.25, paid: true, note: nil,
        items: [Item(id: "a/b", quantity: 3, tags: ["x", "é", "😀"]), Item(id: "line\nbreak \"q\" \\", quantity: 0, tags: [])],
        grid: [[1, 2], [], [3]], shapes: [.circle(radius: 1.5), .rect(2, 3), .point],
        meta: ["zeta": "z", "Alpha": "A", "alpha": "a", "_": "u", "é": "e", "10": "ten", "9": "nine"],
        counts: ["b": [1], "a": []], byNumber: [2: "two", 10: "ten"], emptyList: [], emptyMap: [:],
        nested: ["k": ["i": Item(id: "i", quantity: -1, tags: ["t"])]])

    func ours<T: Encodable>(_ value: T) throws -> String { String(decoding: try CompactJSONEncoder().encode(value), as: UTF8.self) }

    func foundation<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    func decode<T: Decodable>(_ text: String, as type: T.Type = T.self) throws -> T {
        try StrictJSONDecoder().decode(type, from: Array(text.utf8))
    }

    /// `DecodingErrorText.describe` of what decoding `text` throws ("decoded" when it does not throw).
    func failure<T: Decodable>(_ text: String, _ type: T.Type) -> String {
        do {
            _ = try StrictJSONDecoder().decode(type, from: Array(text.utf8))
            return "decoded"
        } catch {
            return DecodingErrorText.describe(error)
        }
    }

    func failure<T: Decodable>(bytes: [UInt8], _ type: T.Type) -> String {
        do {
            _ = try StrictJSONDecoder().decode(type, from: bytes)
            return "decoded"
        } catch {
            return DecodingErrorText.describe(error)
        }
    }

    // MARK: Round trips and Foundation's bytes

    func testANestedValueRoundTripsAndEncodesByteForByteAsFoundation() throws {
        let text = try ours(Self.order)
        XCTAssertEqual(text, try foundation(Self.order))
        XCTAssertEqual(try decode(text, as: Order.self), Self.order)
        // Foundation's output (any order of keys) decodes the same.
        let plain = String(decoding: try JSONEncoder().encode(Self.order), as: UTF8.self)
        XCTAssertEqual(try decode(plain, as: Order.self), Self.order)
        // And ours decodes with Foundation's decoder.
        XCTAssertEqual(try JSONDecoder().decode(Order.self, from: Data(text.utf8)), Self.order)
    }

    func testKeysAreSortedByUTF8BytesLikeFoundation() throws {
        let keys = [
            "b", "B", "a10", "a9", "_x", "Z", "é", "e", "ab", "a", "A1", "a1", "\u{10000}", "\u{FFFF}", "z", "",
            "\u{212B}", "Ç"
        ]  // Swift's `<` puts the Ångström sign (NFC: Å) before Ç; its bytes sort after
        var map: [String: Int] = [:]
        for (i, k) in keys.enumerated() { map[k] = i }
        let text = try ours(map)
        XCTAssertEqual(text, try foundation(map))
        XCTAssertTrue(text.hasPrefix(#"{"":15,"A1":10,"B":1,"Z":5,"_x":4,"a":9"#), text)
    }

    func testIntegersAtTheirLimitsAreExact() throws {
        XCTAssertEqual(try ours([Int64.max]), "[9223372036854775807]")
        XCTAssertEqual(try decode("9223372036854775807", as: Int64.self), Int64.max)
        XCTAssertEqual(try decode("-9223372036854775808", as: Int64.self), Int64.min)
        XCTAssertEqual(try decode("18446744073709551615", as: UInt64.self), UInt64.max)
        // Beyond 2^53 a trip through Double would round to ...992.
        XCTAssertEqual(try decode("9007199254740993", as: Int64.self), 9_007_199_254_740_993)
        XCTAssertEqual(try decode("9007199254740993.0", as: Int64.self), 9_007_199_254_740_993)
        XCTAssertEqual(try decode("[-1,-0,0,-42]", as: [Int].self), [-1, 0, 0, -42])
        XCTAssertEqual(try decode("1e3", as: Int.self), 1000)
        XCTAssertEqual(try decode("1E+3", as: Int16.self), 1000)
        XCTAssertEqual(try decode("10.0e-1", as: UInt8.self), 1)
        XCTAssertEqual(try decode("0.0e5", as: Int.self), 0)
        XCTAssertEqual(try decode("255", as: UInt8.self), 255)
        XCTAssertEqual(try decode("-128", as: Int8.self), -128)
    }

    func testDoublesAreWrittenAsFoundationWritesThemAndReadBackExactly() throws {
        let values: [Double] = [
            1, -0.0, 0.1, 2.5, 1e300, -1e-300, 1e-5, 1e16, 123_456_789_012_345_680, .leastNonzeroMagnitude,
            1.7976931348623157e308, Double.pi
        ]
        let text = try ours(values)
        XCTAssertEqual(text, try foundation(values))
        XCTAssertEqual(text, "[1,-0,0.1,2.5,1e+300,-1e-300,1e-05,1e+16,1.2345678901234568e+17,5e-324,1.7976931348623157e+308,3.141592653589793]")
        XCTAssertEqual(try decode(text, as: [Double].self), values)
        XCTAssertNoThrow(try JSONScanner.validate(Array(text.utf8)), "Swift's exponent spelling is valid JSON")
        XCTAssertEqual(try ours([Float(0.1), 16_777_216, 1e10]), try foundation([Float(0.1), 16_777_216, 1e10]))
        XCTAssertEqual(try decode("1", as: Double.self), 1)
        XCTAssertEqual(try decode("-2.5E-3", as: Float.self), -0.0025)
    }

    func testStringsEscapeWhatJSONRequiresAndNothingElse() throws {
        var all = ""
        for v in 0..<0x20 { all.unicodeScalars.append(Unicode.Scalar(UInt8(v))) }
        let strings = [all, "\"\\/", "é😀\u{2028}\u{7F}", "", "plain"]
        let text = try ours(strings)
        XCTAssertEqual(text, try foundation(strings))
        XCTAssertTrue(text.contains(#"\u0000\u0001"#) && text.contains(#"\b\t\n\u000b\f\r"#) && text.contains(#"\u001f"#), text)
        XCTAssertTrue(text.contains(#""\"\\/""#), "slashes stay unescaped: \(text)")
        XCTAssertEqual(try decode(text, as: [String].self), strings)
        XCTAssertEqual(try decode(#""\u00e9\ud83d\ude00\/\n""#, as: String.self), "é😀/\n")
    }

    func testEmptyContainersAndOptionals() throws {
        struct Box: Codable, Equatable {
            var a: [Int]
            var o: [String: Int]
            var n: Int?
            var s: String?
        }
        let box = Box(a: [], o: [:], n: nil, s: "x")
        XCTAssertEqual(try ours(box), #"{"a":[],"o":{},"s":"x"}"#, "nil is omitted (encodeIfPresent)")
        XCTAssertEqual(try ours(box), try foundation(box))
        XCTAssertEqual(try decode(#"{"a":[],"o":{},"n":null}"#, as: Box.self), Box(a: [], o: [:], n: nil, s: nil))
        XCTAssertEqual(try decode("[[],[[]]]", as: [[[Int]]].self), [[], [[]]])
        XCTAssertEqual(try ours([[Int]]()), "[]")
        XCTAssertEqual(try ours([Int?.none, 1]), "[null,1]")
        XCTAssertEqual(try decode("[null,1]", as: [Int?].self), [nil, 1])
    }

    func testExplicitNullAndSuperEncodersMatchFoundation() throws {
        class Base: Codable {
            var a = 1
            var gone: String? = nil
            private enum CodingKeys: String, CodingKey { case a, gone }
            init() {}
            required init(from decoder: any Decoder) throws {
                let c = try decoder.container(keyedBy: CodingKeys.self)
                a = try c.decode(Int.self, forKey: .a)
            }
            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(a, forKey: .a)
                try c.encodeNil(forKey: .gone)
            }
        }
        final class Derived: Base {
            var b = "two"
            private enum CodingKeys: String, CodingKey { case b, base }
            override init() { super.init() }
            required init(from decoder: any Decoder) throws {
                let c = try decoder.container(keyedBy: CodingKeys.self)
                b = try c.decode(String.self, forKey: .b)
                try super.init(from: c.superDecoder())
                var u = try c.nestedUnkeyedContainer(forKey: .base)
                a += try Base(from: u.superDecoder()).a
            }
            override func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(b, forKey: .b)
                try super.encode(to: c.superEncoder())
                var u = c.nestedUnkeyedContainer(forKey: .base)
                try super.encode(to: u.superEncoder())
                var nested = u.nestedContainer(keyedBy: CodingKeys.self)
                try nested.encode("n", forKey: .b)
            }
        }
        let text = try ours(Derived())
        XCTAssertEqual(text, #"{"b":"two","base":[{"a":1,"gone":null},{"b":"n"}],"super":{"a":1,"gone":null}}"#)
        XCTAssertEqual(text, try foundation(Derived()))
        let back = try decode(text, as: Derived.self)
        XCTAssertEqual(back.a, 2)
        XCTAssertEqual(back.b, "two")
    }

    func testJSONValueWorksThroughBothCodersAndFoundations() throws {
        let text = #"{"a":[1,-2.5,true,null,"s",{"b":{}}],"big":1e+300,"n":12}"#
        let value = try JSONValue.parse(Array(text.utf8))
        XCTAssertEqual(value, try JSONValue.parseStrict(Array(text.utf8)))
        XCTAssertEqual(value.serialized(), text)
        XCTAssertEqual(try ours(value), try foundation(value))
        XCTAssertEqual(try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)), value)
        // Integral numbers are written as their digits (timestamps in ms), -0 as 0, by both encoders.
        let numbers = try JSONValue.parse(Array("[1735732800123,-0.0,1e15,8999999999999999,-7,0.5]".utf8))
        XCTAssertEqual(numbers.serialized(), "[1735732800123,0,1000000000000000,8999999999999999,-7,0.5]")
        XCTAssertEqual(try ours(numbers), try foundation(numbers))
        struct Wrapper: Codable, Equatable {
            var v: JSONValue
            var w: [JSONValue]
        }
        let wrapped = Wrapper(v: value, w: [.null, .string("x")])
        XCTAssertEqual(try decode(try ours(wrapped), as: Wrapper.self), wrapped)
    }

    func testTopLevelScalarsDecode() throws {
        XCTAssertEqual(try decode(#" "x" "#, as: String.self), "x")
        XCTAssertEqual(try decode("42", as: Int.self), 42)
        XCTAssertEqual(try decode("true", as: Bool.self), true)
        XCTAssertEqual(try decode("null", as: Int?.self), nil)
        XCTAssertEqual(try ours("x"), #""x""#)
        XCTAssertEqual(try ours(42), "42")
    }

    // MARK: Errors and their paths

    struct Envelope: Decodable {
        struct Data: Decodable { var items: [Entry] }
        struct Entry: Decodable {
            var id: Int
            var name: String?
        }
        var data: Data
    }

    func testEveryErrorKindNamesItsPath() {
        XCTAssertEqual(failure(#"{"data":{"items":[{"id":1},{"name":"n"}]}}"#, Envelope.self), "missing key id at data.items.1")
        XCTAssertEqual(failure(#"{"data":{"items":[{"id":"1"}]}}"#, Envelope.self), "expected Int at data.items.0.id")
        XCTAssertEqual(failure(#"{"data":{"items":[{"id":null}]}}"#, Envelope.self), "null where Int was expected at data.items.0.id")
        XCTAssertEqual(failure(#"{"data":{"items":[{"id":1.5}]}}"#, Envelope.self), "malformed JSON at data.items.0.id")
        XCTAssertEqual(failure(#"{"data":{"items":{}}}"#, Envelope.self), "expected Array<Any> at data.items")
        XCTAssertEqual(failure(#"{"data":null}"#, Envelope.self), "null where Dictionary<String, Any> was expected at data")
        XCTAssertEqual(failure(#"{"data":{"items":[null]}}"#, Envelope.self), "null where Dictionary<String, Any> was expected at data.items.0")
        XCTAssertEqual(failure(#"{"data":{"items":[{"id":1,"name":7}]}}"#, Envelope.self), "expected String at data.items.0.name")
        XCTAssertEqual(failure(#"{"data":{"items":[1]}"#, Envelope.self), "malformed JSON at the top level")
        XCTAssertEqual(failure("[]", Envelope.self), "expected Dictionary<String, Any> at the top level")
        XCTAssertEqual(failure("1", Bool.self), "expected Bool at the top level")
        XCTAssertEqual(failure(#""true""#, Bool.self), "expected Bool at the top level")
        XCTAssertEqual(failure("1", String.self), "expected String at the top level")
        XCTAssertEqual(failure(#""1""#, Int.self), "expected Int at the top level")
        XCTAssertEqual(failure("null", Int.self), "null where Int was expected at the top level")
        XCTAssertEqual(failure(#"{"a":null}"#, [String: [Int]].self), "null where Array<Any> was expected at a")
        XCTAssertEqual(failure(#"[1,"x"]"#, [Int].self), "expected Int at 1")
        // A tuple-like reader past the end of its array.
        struct Pair: Decodable {
            var a: Int, b: Int
            init(from decoder: any Decoder) throws {
                var c = try decoder.unkeyedContainer()
                a = try c.decode(Int.self)
                b = try c.decode(Int.self)
            }
        }
        XCTAssertEqual(failure("[1]", Pair.self), "null where Int was expected at 1")
        XCTAssertEqual(try decode("[1,2]", as: Pair.self).b, 2)
    }

    func testNumbersThatDoNotFitAreDataCorruptedNotTraps() {
        XCTAssertEqual(failure("1.5", Int.self), "malformed JSON at the top level")
        XCTAssertEqual(failure("300", UInt8.self), "malformed JSON at the top level")
        XCTAssertEqual(failure("-1", UInt.self), "malformed JSON at the top level")
        XCTAssertEqual(failure("9223372036854775808", Int64.self), "malformed JSON at the top level")
        XCTAssertEqual(failure("18446744073709551616", UInt64.self), "malformed JSON at the top level")
        XCTAssertEqual(failure("1e19", Int64.self), "malformed JSON at the top level")
        XCTAssertEqual(failure("1e-1", Int.self), "malformed JSON at the top level")
        XCTAssertEqual(failure("1e300", Float.self), "malformed JSON at the top level")
        XCTAssertEqual(failure("0." + String(repeating: "0", count: 20_000) + "1", Int.self), "malformed JSON at the top level")
        XCTAssertEqual(failure("1" + String(repeating: "0", count: 300), Int.self), "malformed JSON at the top level")
        do {
            _ = try decode(#"{"n":1.5}"#, as: [String: Int].self)
            XCTFail("decoded")
        } catch DecodingError.dataCorrupted(let context) {
            XCTAssertEqual(context.codingPath.map(\.stringValue), ["n"])
            XCTAssertEqual(context.debugDescription, "number does not fit in Int")
        } catch {
            XCTFail("\(error)")
        }
    }

    func testDecodeIfPresentAndDecodeOnMissingOrNull() throws {
        struct Probe: Decodable {
            var a: Int?
            var b: String?
            var c: [Int]?
            var d: Envelope.Entry?
        }
        let p = try decode(#"{"a":null,"c":null,"d":null}"#, as: Probe.self)
        XCTAssertNil(p.a)
        XCTAssertNil(p.b)
        XCTAssertNil(p.c)
        XCTAssertNil(p.d)
        XCTAssertEqual(failure(#"{"a":"x"}"#, Probe.self), "expected Int at a", "present but the wrong kind is still an error")
    }

    // MARK: Hostile input

    func testMalformedDocumentsAreOneErrorThatEchoesNothing() throws {
        let inputs = [
            #"{"id":"secret-value","id":"x"}"#,  // a name twice
            #"{"a":"secret-value"} x"#,  // trailing garbage
            "01", "-01", "1e400", "-1e400", "NaN", "Infinity", ".5", "1.", "1e", "+1",
            "", " ", "[1,]", #"{"a":1,}"#, #"{"a"}"#, "[1 2]", #""\x""#, #""\ud800""#, "\"a\tb\"", "tru", "nul",
            String(repeating: "[", count: 513) + String(repeating: "]", count: 513),
            String(repeating: #"{"a":"#, count: 513) + "1" + String(repeating: "}", count: 513)
        ]
        for input in inputs {
            do {
                _ = try decode(input, as: JSONValue.self)
                XCTFail("decoded: \(input.prefix(40))")
            } catch {
                XCTAssertEqual(DecodingErrorText.describe(error), "malformed JSON at the top level", input)
                XCTAssertFalse(String(describing: error).contains("secret-value"))
                guard case DecodingError.dataCorrupted(let c) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(c.debugDescription, "malformed JSON")
            }
            XCTAssertThrowsError(try JSONScanner.validate(Array(input.utf8)), "the validator agrees: \(input.prefix(40))")
        }
        for bytes: [UInt8] in [
            [0x22, 0xC3, 0x28, 0x22], [0x22, 0xFF, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x7B, 0x22, 0x80, 0x22, 0x3A, 0x31, 0x7D]
        ] {
            XCTAssertEqual(failure(bytes: bytes, JSONValue.self), "malformed JSON at the top level", "invalid UTF-8 \(bytes)")
        }
        // Duplicates in small objects (names scanned) and large ones (names indexed), the same bytes however
        // each was spelled (canonically equal names are two: see testCanonicallyEquivalentNamesAreTwoMembers).
        let many = (0..<40).map { "\"k\($0)\":\($0)" }.joined(separator: ",")
        for doc in [
            "{\(many),\"k3\":1}", "{\(many),\"k39\":1}", "{\"k16\":0,\(many)}", #"{"\u00e9":1,"é":2}"#,
            "{\(many),\"\\u00e9\":1,\"é\":2}"
        ] {
            XCTAssertEqual(failure(doc, JSONValue.self), "malformed JSON at the top level", doc)
            XCTAssertThrowsError(try JSONScanner.validate(Array(doc.utf8)))
        }
        let big = try decode("{\(many)}", as: [String: Int].self)
        XCTAssertEqual(big.count, 40)
        XCTAssertEqual(big["k17"], 17)
        struct Far: Decodable {
            var k0: Int
            var k39: Int
            var k16: Int
            var absent: Int?
        }
        let far = try decode("{\(many)}", as: Far.self)
        XCTAssertEqual([far.k0, far.k39, far.k16], [0, 39, 16])
        XCTAssertNil(far.absent)
        // Depth 512 is the limit (Foundation's), as the validator's.
        let deep = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        XCTAssertNoThrow(try decode(deep, as: JSONValue.self))
        XCTAssertNoThrow(try JSONScanner.validate(Array(deep.utf8)))
    }

    /// A coding key spelled at run time (two spellings Swift's `String` calls equal).
    struct Name: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.init(stringValue) }
        init?(intValue: Int) { nil }
    }

    static let composed = "caf\u{E9}", decomposed = "cafe\u{301}", kelvin = "\u{212A}"

    /// Decodes the member spelled exactly `Self.composed`, and the one spelled `Self.decomposed`.
    struct Spellings: Codable, Equatable {
        var composed: Int?
        var decomposed: Int?
        init(composed: Int?, decomposed: Int?) { (self.composed, self.decomposed) = (composed, decomposed) }
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: Name.self)
            composed = try c.decodeIfPresent(Int.self, forKey: Name(JSONCodersTests.composed))
            decomposed = try c.decodeIfPresent(Int.self, forKey: Name(JSONCodersTests.decomposed))
        }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Name.self)
            try c.encodeIfPresent(composed, forKey: Name(JSONCodersTests.composed))
            try c.encodeIfPresent(decomposed, forKey: Name(JSONCodersTests.decomposed))
        }
    }

    /// Issue 19: member names are their UTF-8 bytes. Swift's `String` equality (canonical equivalence)
    /// made "café" composed and decomposed one name twice: the document was refused, and a key found the
    /// other spelling's member.
    func testCanonicallyEquivalentNamesAreTwoMembers() throws {
        let doc = #"{"caf\u00e9":1,"cafe\u0301":2,"K":3,"\u212a":4}"#
        let strict = try JSONValue.parseStrict(Array(doc.utf8))
        XCTAssertEqual(try JSONValue.parse(Array(doc.utf8)), strict)
        // Both kept and both written, sorted by bytes (XCTAssertEqual on Strings would call the spellings equal).
        let expected = "{\"K\":3,\"\(Self.decomposed)\":2,\"\(Self.composed)\":1,\"\(Self.kelvin)\":4}"
        XCTAssertEqual(Array(strict.serialized().utf8), Array(expected.utf8))
        XCTAssertEqual(Array(try ours(strict).utf8), Array(expected.utf8))
        XCTAssertEqual(try JSONValue.parseStrict(Array(strict.serialized().utf8)), strict, "it reads back")
        XCTAssertEqual(strict[Self.composed], .number(1))
        XCTAssertEqual(strict[Self.decomposed], .number(2))
        XCTAssertEqual(strict["K"], .number(3))
        XCTAssertEqual(strict[Self.kelvin], .number(4))
        XCTAssertNotEqual(strict, try JSONValue.parseStrict(Array(#"{"caf\u00e9":2,"cafe\u0301":1,"K":3,"\u212a":4}"#.utf8)))
        XCTAssertEqual(try decode(doc, as: Spellings.self), Spellings(composed: 1, decomposed: 2))
        // Nested inside a typed value, JSONValue keeps both as well.
        struct Holder: Decodable { var meta: JSONValue }
        let held = try decode(#"{"meta":{"K":1,"\u212a":[2]}}"#, as: Holder.self)
        XCTAssertEqual(Array(held.meta.serialized().utf8), Array("{\"K\":1,\"\(Self.kelvin)\":[2]}".utf8))
    }

    /// Issue 19: a coding key finds the member spelled with its exact bytes, and only that one; the encoder
    /// writes two keys Swift calls equal as two members.
    func testAKeyFindsOnlyTheMemberWithItsBytes() throws {
        XCTAssertEqual(try decode(#"{"cafe\u0301":2}"#, as: Spellings.self), Spellings(composed: nil, decomposed: 2))
        XCTAssertEqual(try decode(#"{"caf\u00e9":1}"#, as: Spellings.self), Spellings(composed: 1, decomposed: nil))
        let many = (0..<20).map { "\"k\($0)\":\($0)" }.joined(separator: ",")
        XCTAssertEqual(try decode("{\(many),\"cafe\\u0301\":2}", as: Spellings.self), Spellings(composed: nil, decomposed: 2))
        XCTAssertEqual(
            Array(try ours(Spellings(composed: 1, decomposed: 2)).utf8),
            Array("{\"\(Self.decomposed)\":2,\"\(Self.composed)\":1}".utf8))
        // allKeys names only keys a lookup finds: an enum key's init(stringValue:) matches canonically.
        enum Keys: String, CodingKey { case composed = "caf\u{E9}" }
        struct AllKeys: Decodable {
            var keys: [String]
            init(from decoder: any Decoder) throws { keys = try decoder.container(keyedBy: Keys.self).allKeys.map(\.stringValue) }
        }
        XCTAssertEqual(try decode(#"{"cafe\u0301":1}"#, as: AllKeys.self).keys, [])
        XCTAssertEqual(try decode(#"{"caf\u00e9":1}"#, as: AllKeys.self).keys.map { Array($0.utf8) }, [Array(Self.composed.utf8)])
    }

    /// `JSONObject` reads like the dictionary it replaced, with names as bytes.
    func testJSONObjectReadsLikeADictionary() throws {
        var object: JSONObject = ["a": .number(1), Self.composed: .string("c")]
        object[Self.decomposed] = .string("d")
        XCTAssertEqual(object.count, 3)
        XCTAssertEqual(object[Self.composed], .string("c"))
        XCTAssertEqual(object[Self.decomposed], .string("d"))
        XCTAssertEqual(Set(object.names.map { Array($0.utf8) }), Set(["a", Self.composed, Self.decomposed].map { Array($0.utf8) }))
        object[Self.composed] = nil
        XCTAssertNil(object[Self.composed])
        XCTAssertEqual(object[Self.decomposed], .string("d"))
        var seen: [[UInt8]: JSONValue] = [:]
        for (name, value) in object { seen[Array(name.utf8)] = value }
        XCTAssertEqual(seen, [Array("a".utf8): .number(1), Array(Self.decomposed.utf8): .string("d")])
        XCTAssertEqual(object.mapValues { _ in .null }, ["a": .null, Self.decomposed: .null])
        XCTAssertEqual(JSONObject(members: [("k", .number(1)), ("k", .number(2))]), ["k": .number(2)], "a later name replaces")
        XCTAssertEqual(JSONObject(["x": .bool(true)]), ["x": .bool(true)])
        XCTAssertTrue(JSONObject().isEmpty)
        XCTAssertEqual(JSONValue.object(object)["a"], .number(1))
    }

    func testNonFiniteNumbersAndEmptyValuesDoNotEncode() throws {
        for value in [Double.nan, .infinity, -.infinity] {
            XCTAssertThrowsError(try CompactJSONEncoder().encode(["x": [value]])) { error in
                guard case EncodingError.invalidValue(_, let c) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(c.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }, ["x", "0"])
            }
        }
        XCTAssertThrowsError(try CompactJSONEncoder().encode(Float.nan))
        struct Nothing: Encodable { func encode(to encoder: any Encoder) throws {} }
        XCTAssertThrowsError(try CompactJSONEncoder().encode(Nothing())) { error in
            guard case EncodingError.invalidValue = error else { return XCTFail("\(error)") }
        }
        struct Holder: Encodable { var n = Nothing() }
        XCTAssertEqual(try ours(Holder()), #"{"n":{}}"#)
        XCTAssertEqual(try ours(Holder()), try foundation(Holder()))
    }
}
