/// Reading a JSON array or object by its structure alone: strings, brackets and the separators between its
/// own elements or members, without the strict rules inside their values. A page of one of Clerk's lists holds
/// one item per element, and an item that breaks a strict rule (a member named twice, a number out of range,
/// bad UTF-8, a stray control character) must not hide the others: each range found here is then read
/// strictly on its own. Brackets must pair up and strings must end, and the separators read here must be
/// right; anything else is `Malformed`. Linear in the input, whatever the nesting (no recursion).
extension JSONScanner {
    /// The byte ranges of the elements of the array `input[range]` (all of `input` by default), by structure.
    public static func elementRanges(byStructureOf input: [UInt8], in range: Range<Int>? = nil) throws -> [Range<Int>] {
        let range = range ?? 0..<input.count
        guard range.lowerBound >= 0, range.upperBound <= input.count else { throw Malformed() }
        return try input.withUnsafeBytes { all in
            var s = JSONScanner(bytes: UnsafeRawBufferPointer(rebasing: all[range]))
            var out: [Range<Int>] = []
            try s.sequence(open: UInt8(ascii: "["), close: UInt8(ascii: "]")) { s in
                let start = s.i
                try s.skipByStructure()
                out.append(range.lowerBound + start..<range.lowerBound + s.i)
            }
            return out
        }
    }

    /// The members of the object `input[range]` (all of `input` by default), by structure: each one's name
    /// (nil when it is not a strict string) and the byte range of its value.
    public static func members(byStructureOf input: [UInt8], in range: Range<Int>? = nil) throws
        -> [(name: String?, value: Range<Int>)]
    {
        let range = range ?? 0..<input.count
        guard range.lowerBound >= 0, range.upperBound <= input.count else { throw Malformed() }
        return try input.withUnsafeBytes { all in
            var s = JSONScanner(bytes: UnsafeRawBufferPointer(rebasing: all[range]))
            var out: [(name: String?, value: Range<Int>)] = []
            try s.sequence(open: UInt8(ascii: "{"), close: UInt8(ascii: "}")) { s in
                let nameStart = s.i
                var name: String?
                do {
                    name = try s.string()
                } catch {
                    s.i = nameStart
                    try s.skipStringByStructure()
                }
                s.skipSpace()
                try s.expect(UInt8(ascii: ":"))
                s.skipSpace()
                let start = s.i
                try s.skipByStructure()
                out.append((name, range.lowerBound + start..<range.lowerBound + s.i))
            }
            return out
        }
    }

    /// `open`, items separated by commas (each read by `item`), `close`, and nothing after but space.
    private mutating func sequence(open: UInt8, close: UInt8, item: (inout JSONScanner) throws -> Void) throws {
        skipSpace()
        try expect(open)
        skipSpace()
        if i < bytes.count, bytes[i] == close {
            i += 1
        } else {
            while true {
                skipSpace()
                try item(&self)
                skipSpace()
                guard i < bytes.count else { throw Malformed() }
                if bytes[i] == UInt8(ascii: ",") {
                    i += 1
                    continue
                }
                try expect(close)
                break
            }
        }
        skipSpace()
        guard i == bytes.count else { throw Malformed() }
    }

    /// Skips one value by structure: a string to its closing quote, a container to its matching bracket (the
    /// brackets inside paired, strings inside skipped), anything else up to the next separator.
    private mutating func skipByStructure() throws {
        guard i < bytes.count else { throw Malformed() }
        switch bytes[i] {
        case UInt8(ascii: "\""):
            try skipStringByStructure()
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var closers: [UInt8] = []
            repeat {
                guard i < bytes.count else { throw Malformed() }
                switch bytes[i] {
                case UInt8(ascii: "\""):
                    try skipStringByStructure()
                    continue
                case UInt8(ascii: "{"): closers.append(UInt8(ascii: "}"))
                case UInt8(ascii: "["): closers.append(UInt8(ascii: "]"))
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    guard closers.last == bytes[i] else { throw Malformed() }
                    closers.removeLast()
                default: break
                }
                i += 1
            } while !closers.isEmpty
        default:
            let start = i
            while i < bytes.count, !Self.endsScalar(bytes[i]) { i += 1 }
            guard i > start else { throw Malformed() }
        }
    }

    /// Skips a string by structure: to the first quote not escaped, whatever lies between.
    private mutating func skipStringByStructure() throws {
        try expect(UInt8(ascii: "\""))
        while i < bytes.count {
            switch bytes[i] {
            case UInt8(ascii: "\""):
                i += 1
                return
            case UInt8(ascii: "\\"): i += 2
            default: i += 1
            }
        }
        throw Malformed()
    }

    private static func endsScalar(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: ","), UInt8(ascii: ":"), UInt8(ascii: "]"), UInt8(ascii: "}"), UInt8(ascii: "["), UInt8(ascii: "{"),
            UInt8(ascii: "\""), 0x20, 0x0A, 0x0D, 0x09:
            true
        default: false
        }
    }
}
