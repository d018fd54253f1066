/// The documented ways the strict reader parts from Foundation's `JSONDecoder`, found in raw input by a
/// lenient walk of its own (none of the JSON module's code), so the differential can tell an allowed
/// difference from a finding. The walk does not judge well-formedness: it only notices each case where it
/// occurs. (That Foundation does not look into values a type skips is no case here: `FoundationDifferential`
/// asks Foundation to read the whole document instead.)
struct StrictCases: OptionSet, CustomStringConvertible {
    let rawValue: Int

    init(rawValue: Int) { self.rawValue = rawValue }

    /// One object names a member twice with the same bytes (Foundation keeps the first, we refuse).
    static let duplicateName = StrictCases(rawValue: 1 << 0)
    /// One object has two names Swift's `String` calls equal whose bytes differ (Foundation merges them
    /// into one, we keep both): the values read may differ, either may refuse a value the other skipped.
    static let equivalentNames = StrictCases(rawValue: 1 << 1)
    /// A number with a leading zero (`01`, `-00.5`).
    static let leadingZero = StrictCases(rawValue: 1 << 2)
    /// A number beyond `Double`'s range (`1e400`).
    static let outOfRange = StrictCases(rawValue: 1 << 3)
    /// Text that has no UTF-8 form: bytes that are not UTF-8, or a `\u` escape of a lone surrogate.
    static let invalidText = StrictCases(rawValue: 1 << 4)
    /// Containers nested deeper than 512.
    static let tooDeep = StrictCases(rawValue: 1 << 5)
    /// Text in another encoding: a byte-order mark, or a NUL byte (Foundation reads UTF-16 and UTF-32 by
    /// their BOM or NUL pattern; JSON exchanged between systems is UTF-8 without a BOM, RFC 8259 §8.1).
    static let notUTF8Text = StrictCases(rawValue: 1 << 6)

    /// A comma just before `}` or `]`: not JSON (RFC 8259), yet Foundation's reader takes one.
    static let trailingComma = StrictCases(rawValue: 1 << 7)
    /// Foundation's own: a number that is not zero but reads as zero in `Double` (`1e-400`) or `Float`
    /// (`1e-50`). Foundation refuses it (for a `Double`, the whole value); we read 0, as JavaScript does.
    static let underflow = StrictCases(rawValue: 1 << 8)
    /// Foundation's own: a number written with a fraction or an exponent that a `Double` may not hold
    /// exactly (2^53 or more, or more than 15 significant digits). Foundation reads it as an integer through
    /// `Double`: it refuses some exact ones (`9223372036854775807.0`) and takes some fractions for integers
    /// (`1.0000000000000001` as 1, `9007192549740993.5` as 9007192549740994); we read exactly the integer
    /// written, or refuse. With at most 15 significant digits below 2^53 the two readings agree.
    static let roundedInDouble = StrictCases(rawValue: 1 << 9)

    /// Foundation's own: a zero written with an exponent. Foundation refuses some as a `Double` or `Float`
    /// (`0e3`, `0E1`; `0e10` and `0e+3` it reads), we read 0.
    static let zeroWithExponent = StrictCases(rawValue: 1 << 10)

    /// The cases for which the strict reader refuses the whole document.
    static let refusing: StrictCases = [
        .duplicateName, .leadingZero, .outOfRange, .invalidText, .tooDeep, .notUTF8Text,
        .trailingComma
    ]
    /// The cases where Foundation reads numbers otherwise.
    static let foundationNumbers: StrictCases = [.underflow, .roundedInDouble, .zeroWithExponent]

    var description: String {
        let names: [(StrictCases, String)] = [
            (.duplicateName, "duplicate name"), (.equivalentNames, "equivalent names"),
            (.leadingZero, "leading zero"), (.outOfRange, "out of range"),
            (.invalidText, "invalid text"), (.tooDeep, "too deep"), (.notUTF8Text, "not UTF-8 text"),
            (.trailingComma, "trailing comma"), (.underflow, "underflow"),
            (.roundedInDouble, "rounded in Double"), (.zeroWithExponent, "zero with exponent")
        ]
        return "[" + names.filter { contains($0.0) }.map(\.1).joined(separator: ", ") + "]"
    }

    /// The cases `bytes` contains, and when it has equivalent names, the same bytes with each name that is
    /// equivalent to an earlier one of its object renamed to a name of its own (`"\u{10FFFF}eq<n>"`): the
    /// document as it would be without the case, for a reader that merges such names.
    static func inspect(_ bytes: [UInt8]) -> (cases: StrictCases, renamed: [UInt8]?) {
        var cases: StrictCases = []
        if String(validating: bytes, as: UTF8.self) == nil { cases.insert(.invalidText) }
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) || bytes.contains(0) { cases.insert(.notUTF8Text) }
        var walk = Walk(bytes: bytes)
        walk.run()
        cases.formUnion(walk.found)
        guard !walk.equivalent.isEmpty else { return (cases, nil) }
        var renamed: [UInt8] = []
        var from = 0
        for (n, range) in walk.equivalent.enumerated() {
            renamed += bytes[from..<range.lowerBound]
            renamed += Array("\"\u{10FFFF}eq\(n)\"".utf8)
            from = range.upperBound
        }
        renamed += bytes[from...]
        return (cases, renamed)
    }
}

/// The lenient walk: containers on a stack, each object's names as decoded bytes, numbers as tokens.
private struct Walk {
    let bytes: [UInt8]
    var i = 0
    var found: StrictCases = []
    /// Per open container: the names of an object (nil for an array) and whether a name comes next.
    var stack: [(names: [(bytes: [UInt8], text: String)]?, expectingName: Bool)] = []
    /// Where each name equivalent to an earlier one of its object is (its quotes included), in order.
    var equivalent: [Range<Int>] = []

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func run() {
        while i < bytes.count {
            let c = bytes[i]
            switch c {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                stack.append((c == UInt8(ascii: "{") ? [] : nil, true))
                if stack.count > 512 { found.insert(.tooDeep) }
                i += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if !stack.isEmpty { stack.removeLast() }
                i += 1
            case UInt8(ascii: ","):
                if !stack.isEmpty { stack[stack.count - 1].expectingName = true }
                i += 1
                let next = bytes[i...].first { ![0x20, 0x0A, 0x0D, 0x09].contains($0) }
                if next == UInt8(ascii: "}") || next == UInt8(ascii: "]") { found.insert(.trailingComma) }
            case UInt8(ascii: "\""):
                let start = i
                let text = string()
                if let last = stack.indices.last, stack[last].names != nil, stack[last].expectingName {
                    stack[last].expectingName = false
                    if let text { name(text, at: start..<min(i, bytes.count), in: last) }
                }
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                number()
            default:
                i += 1
            }
        }
    }

    /// Notes a name of the object at `frame`; one equivalent to an earlier name, and the same bytes as none,
    /// is renamed in the variant.
    mutating func name(_ bytes: [UInt8], at range: Range<Int>, in frame: Int) {
        let text = String(decoding: bytes, as: UTF8.self)
        var duplicate = false
        var equivalentToOne = false
        for other in stack[frame].names ?? [] {
            if other.bytes == bytes { duplicate = true } else if other.text == text { equivalentToOne = true }
        }
        if duplicate { found.insert(.duplicateName) }
        if equivalentToOne {
            found.insert(.equivalentNames)
            if !duplicate { equivalent.append(range) }
        }
        stack[frame].names?.append((bytes, text))
    }

    mutating func number() {
        let start = i
        while i < bytes.count, "+-.eE0123456789".utf8.contains(bytes[i]) { i += 1 }
        let token = Array(bytes[start..<i])
        let digits = token.first == UInt8(ascii: "-") ? token.dropFirst() : token[...]
        if digits.count >= 2, digits.first == UInt8(ascii: "0"), let next = digits.dropFirst().first,
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(next)
        {
            found.insert(.leadingZero)
        }
        let text = String(decoding: token, as: UTF8.self)
        guard let d = Double(text) else { return }
        if !d.isFinite { found.insert(.outOfRange) }
        let mantissa = token.prefix { $0 | 0x20 != UInt8(ascii: "e") }
        let nonZero = mantissa.contains { (UInt8(ascii: "1")...UInt8(ascii: "9")).contains($0) }
        if nonZero && (d == 0 || Float(text) == 0) { found.insert(.underflow) }
        if !nonZero && mantissa.count < token.count { found.insert(.zeroWithExponent) }
        let significant = mantissa.filter { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
            .drop { $0 == UInt8(ascii: "0") }.reversed().drop { $0 == UInt8(ascii: "0") }.count
        if mantissa.count < token.count || mantissa.contains(UInt8(ascii: ".")), abs(d) >= 9_007_199_254_740_992 || significant > 15 {
            found.insert(.roundedInDouble)
        }
    }

    /// The string at `i` with its escapes decoded; nil unless it is a well-formed JSON string of valid text
    /// (then a name is compared, and may be renamed: renaming a malformed one would change the verdict).
    mutating func string() -> [UInt8]? {
        i += 1
        var out: [UInt8] = []
        var meaningful = true
        while i < bytes.count, bytes[i] != UInt8(ascii: "\"") {
            if bytes[i] < 0x20 { meaningful = false }
            guard bytes[i] == UInt8(ascii: "\\"), i + 1 < bytes.count else {
                out.append(bytes[i])
                i += 1
                continue
            }
            let e = bytes[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                guard let scalar = unicodeEscape() else {
                    meaningful = false
                    continue
                }
                // A surrogate alone has no UTF-8 form (a pair was joined into one scalar above).
                if (0xD800..<0xE000).contains(scalar) {
                    found.insert(.invalidText)
                    meaningful = false
                    continue
                }
                guard let u = Unicode.Scalar(scalar) else {
                    meaningful = false
                    continue
                }
                out.append(contentsOf: Array(String(Character(u)).utf8))
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            default: meaningful = false
            }
        }
        if i >= bytes.count || String(validating: out, as: UTF8.self) == nil { meaningful = false }
        i += 1
        return meaningful ? out : nil
    }

    /// The code point of `XXXX` at `i`, joined with a low surrogate's `\uXXXX` that follows a high one; a
    /// surrogate alone is returned as itself. Nil when the hex digits are not there.
    mutating func unicodeEscape() -> UInt32? {
        guard let high = hex4() else { return nil }
        guard (0xD800..<0xDC00).contains(high), i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
            return high
        }
        let start = i
        i += 2
        guard let low = hex4(), (0xDC00..<0xE000).contains(low) else {
            i = start
            return high
        }
        return 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
    }

    mutating func hex4() -> UInt32? {
        guard i + 4 <= bytes.count, let v = UInt32(String(decoding: bytes[i..<(i + 4)], as: UTF8.self), radix: 16),
            bytes[i..<(i + 4)].allSatisfy({ $0 != UInt8(ascii: "+") && $0 != UInt8(ascii: "-") })
        else { return nil }
        i += 4
        return v
    }
}
