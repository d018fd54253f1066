/// A strict, allocation-light JSON reader: validates a document, or visits one object's top-level members
/// (and, on request, those of a named nested object). Token verification reads a dozen fields of a small
/// object per request, and the harness checks every event is JSON; a generic `Decoder` made both several
/// times slower than the work around them. Anything that is not well-formed JSON is an error; nesting is
/// bounded (`maxDepth`). Stricter than RFC 8259 where a second reading could differ: a member name twice in
/// one object, a number leading zero or out of `Double`'s range, and strings that are not valid UTF-8 are
/// all refused, so one document has exactly one meaning. A name is its UTF-8 bytes, as RFC 8259 compares
/// them: "é" composed and "e" + U+0301 are two names (Swift's `String` equality would call them one).
public struct JSONScanner {
    /// How deep containers may nest: Foundation's `JSONDecoder` limit, so no document it read is refused for
    /// depth (a user's own `unsafe_metadata` is inside every webhook about them, and nested past a smaller
    /// limit it stopped that user's sync). Every reader here is linear in the input, whatever the depth.
    public static let maxDepth = 512

    /// A member's value; objects and arrays are reported by kind only.
    public enum Value: Equatable, Sendable {
        case string(String)
        case number(Double)
        case bool(Bool)
        case null
        case object
        case array
    }

    /// The input is not well-formed JSON.
    public struct Malformed: Error {
        /// Creates the error.
        public init() {}
    }

    // Internal (not private) so the node reader (JSONScanner+Node.swift) reads with the same primitives.
    let bytes: UnsafeRawBufferPointer
    var i = 0

    /// Visits every top-level member as (key, value); members of objects named in `descend` (by their
    /// UTF-8 bytes) are visited too, as ("parent.child", value). Names are unique by their bytes, so two
    /// visited keys may be equal to Swift's `==` (canonical equivalence) yet be two members.
    public static func scan(_ input: [UInt8], descend: Set<String> = [], visit: (String, Value) throws -> Void) throws {
        try input.withUnsafeBytes { raw in
            var s = JSONScanner(bytes: raw)
            s.skipSpace()
            try s.object(prefix: "", descend: descend, depth: 0, visit: visit)
            s.skipSpace()
            guard s.i == raw.count else { throw Malformed() }
        }
    }

    /// Throws `Malformed` unless `input` is one well-formed JSON value (of any kind).
    public static func validate(_ input: [UInt8]) throws {
        try input.withUnsafeBytes { raw in
            var s = JSONScanner(bytes: raw)
            s.skipSpace()
            try s.skip(depth: 0)
            s.skipSpace()
            guard s.i == raw.count else { throw Malformed() }
        }
    }

    /// The byte ranges of the elements of `input`, which must be one well-formed JSON array: each element
    /// exactly as it was sent, without decoding it (a page of Clerk's users, kept as its raw payload).
    public static func arrayElementRanges(_ input: [UInt8]) throws -> [Range<Int>] {
        try validate(input)
        return try input.withUnsafeBytes { raw in
            var s = JSONScanner(bytes: raw)
            var out: [Range<Int>] = []
            s.skipSpace()
            try s.expect(UInt8(ascii: "["))
            s.skipSpace()
            if s.i < raw.count, raw[s.i] == UInt8(ascii: "]") { return out }
            while true {
                s.skipSpace()
                let start = s.i
                try s.skip(depth: 1)
                out.append(start..<s.i)
                s.skipSpace()
                guard s.i < raw.count else { throw Malformed() }
                if raw[s.i] == UInt8(ascii: ",") {
                    s.i += 1
                    continue
                }
                try s.expect(UInt8(ascii: "]"))
                return out
            }
        }
    }

    init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    mutating func skipSpace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
    }

    mutating func expect(_ c: UInt8) throws {
        guard i < bytes.count, bytes[i] == c else { throw Malformed() }
        i += 1
    }

    private mutating func object(prefix: String, descend: Set<String>, depth: Int, visit: (String, Value) throws -> Void) throws {
        try expect(UInt8(ascii: "{"))
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") {
            i += 1
            return
        }
        // Duplicate names: one reader would take the first, another the last (a claim's two meanings). A name
        // is its bytes: canonically equivalent spellings are two names (JSONName).
        var seen: [String] = []
        var seenSet: Set<JSONName> = []
        while true {
            skipSpace()
            let key = try string()
            if seen.count < 16 {
                guard !seen.contains(where: { $0.sameBytes(as: key) }) else { throw Malformed() }
                seen.append(key)
                if seen.count == 16 { seenSet = Set(seen.map(JSONName.init)) }
            } else {
                guard seenSet.insert(JSONName(key)).inserted else { throw Malformed() }
            }
            skipSpace()
            try expect(UInt8(ascii: ":"))
            skipSpace()
            guard i < bytes.count else { throw Malformed() }
            let name = prefix.isEmpty ? key : prefix + "." + key
            switch bytes[i] {
            case UInt8(ascii: "{"):
                if prefix.isEmpty && descend.contains(where: { $0.sameBytes(as: key) }) {
                    try visit(name, .object)
                    try object(prefix: name, descend: [], depth: depth + 1, visit: visit)
                } else {
                    try skip(depth: depth + 1)
                    try visit(name, .object)
                }
            case UInt8(ascii: "["):
                try skip(depth: depth + 1)
                try visit(name, .array)
            default:
                try visit(name, try scalar())
            }
            skipSpace()
            guard i < bytes.count else { throw Malformed() }
            if bytes[i] == UInt8(ascii: ",") {
                i += 1
                continue
            }
            try expect(UInt8(ascii: "}"))
            return
        }
    }

    private mutating func scalar() throws -> Value {
        switch bytes[i] {
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"):
            try literal("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try literal("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        default: return .number(try number())
        }
    }

    mutating func literal(_ word: StaticString) throws {
        let n = word.utf8CodeUnitCount
        guard i + n <= bytes.count else { throw Malformed() }
        for k in 0..<n where bytes[i + k] != word.utf8Start[k] { throw Malformed() }
        i += n
    }

    private mutating func number() throws -> Double { try numberToken().value }

    /// The text of the number at `i`, validated (JSON grammar, no leading zero, within `Double`'s range): the
    /// decoder converts it to the target type itself, so integers beyond 2^53 stay exact.
    mutating func numberLiteral() throws -> String { try numberToken().text }

    private mutating func numberToken() throws -> (text: String, value: Double) {
        let start = i
        if i < bytes.count, bytes[i] == UInt8(ascii: "-") { i += 1 }
        var digits = 0
        let firstDigit = i
        while i < bytes.count, bytes[i] >= 0x30 && bytes[i] <= 0x39 {
            i += 1
            digits += 1
        }
        // `0` alone, never `01`: a leading zero is another spelling of the same number.
        guard digits > 0, digits == 1 || bytes[firstDigit] != 0x30 else { throw Malformed() }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            var frac = 0
            while i < bytes.count, bytes[i] >= 0x30 && bytes[i] <= 0x39 {
                i += 1
                frac += 1
            }
            guard frac > 0 else { throw Malformed() }
        }
        if i < bytes.count, bytes[i] | 0x20 == UInt8(ascii: "e") {
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            var exp = 0
            while i < bytes.count, bytes[i] >= 0x30 && bytes[i] <= 0x39 {
                i += 1
                exp += 1
            }
            guard exp > 0 else { throw Malformed() }
        }
        // `1e400` would read as infinity: an `exp` that never comes.
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
        guard let value = Double(text), value.isFinite else { throw Malformed() }
        return (text, value)
    }

    mutating func string() throws -> String {
        try expect(UInt8(ascii: "\""))
        let start = i
        var ascii = true
        // Fast path: no escapes.
        while i < bytes.count, bytes[i] != UInt8(ascii: "\""), bytes[i] != UInt8(ascii: "\\") {
            guard bytes[i] >= 0x20 else { throw Malformed() }
            if bytes[i] >= 0x80 { ascii = false }
            i += 1
        }
        guard i < bytes.count else { throw Malformed() }
        if bytes[i] == UInt8(ascii: "\"") {
            defer { i += 1 }
            let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<i])
            if ascii { return String(decoding: raw, as: UTF8.self) }
            // Invalid UTF-8 would otherwise become U+FFFD here and stay raw bytes for other readers.
            guard let text = String(validating: raw, as: UTF8.self) else { throw Malformed() }
            return text
        }
        var out = [UInt8](UnsafeRawBufferPointer(rebasing: bytes[start..<i]))
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "\"") {
                i += 1
                guard let text = String(validating: out, as: UTF8.self) else { throw Malformed() }
                return text
            }
            guard c >= 0x20 else { throw Malformed() }
            if c != UInt8(ascii: "\\") {
                out.append(c)
                i += 1
                continue
            }
            guard i + 1 < bytes.count else { throw Malformed() }
            let e = bytes[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if scalar >= 0xD800 && scalar < 0xDC00 {
                    guard i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else { throw Malformed() }
                    i += 2
                    let low = try hex4()
                    guard low >= 0xDC00 && low < 0xE000 else { throw Malformed() }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let u = Unicode.Scalar(scalar) else { throw Malformed() }
                out.append(contentsOf: Array(String(Character(u)).utf8))
            default:
                throw Malformed()
            }
        }
        throw Malformed()
    }

    private mutating func hex4() throws -> UInt32 {
        guard i + 4 <= bytes.count else { throw Malformed() }
        var v: UInt32 = 0
        for k in 0..<4 {
            let c = bytes[i + k]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x37)
            case 0x61...0x66: d = UInt32(c - 0x57)
            default: throw Malformed()
            }
            v = v << 4 | d
        }
        i += 4
        return v
    }

    /// Skips one value (object or array included), validating it.
    private mutating func skip(depth: Int) throws {
        guard depth < Self.maxDepth, i < bytes.count else { throw Malformed() }
        switch bytes[i] {
        case UInt8(ascii: "{"):
            try object(prefix: "skip", descend: [], depth: depth, visit: { _, _ in })
        case UInt8(ascii: "["):
            i += 1
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "]") {
                i += 1
                return
            }
            while true {
                skipSpace()
                guard i < bytes.count else { throw Malformed() }
                if bytes[i] == UInt8(ascii: "{") || bytes[i] == UInt8(ascii: "[") { try skip(depth: depth + 1) } else { _ = try scalar() }
                skipSpace()
                guard i < bytes.count else { throw Malformed() }
                if bytes[i] == UInt8(ascii: ",") {
                    i += 1
                    continue
                }
                try expect(UInt8(ascii: "]"))
                return
            }
        default:
            _ = try scalar()
        }
    }
}
