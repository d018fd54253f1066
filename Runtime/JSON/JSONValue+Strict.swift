extension JSONValue {
    /// Reads a document from outside the process with the strict scanner's rules (one spelling, no duplicate
    /// names, bounded nesting, valid UTF-8), without the generic `Decoder`: for one of Clerk's small verify
    /// answers that decoder cost 27-30 µs, as much as the loopback round trip (bench-machine); this costs
    /// about 4.5. The document is validated first, so the builder below only walks a known-good text; escaped
    /// strings go back through the scanner to be decoded. Throws `JSONScanner.Malformed`.
    public static func parseStrict(_ bytes: [UInt8]) throws -> JSONValue {
        try JSONStrictReader.parse(bytes)
    }
}

/// The builder behind `JSONValue.parseStrict`.
enum JSONStrictReader {
    static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        try JSONScanner.validate(bytes)
        return try bytes.withUnsafeBytes { raw in
            var i = 0
            let value = try build(raw, &i)
            return value
        }
    }

    private static func space(_ b: UnsafeRawBufferPointer, _ i: inout Int) {
        while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
    }

    private static func build(_ b: UnsafeRawBufferPointer, _ i: inout Int) throws -> JSONValue {
        space(b, &i)
        guard i < b.count else { throw JSONScanner.Malformed() }
        switch b[i] {
        case UInt8(ascii: "{"):
            i += 1
            var members: [String: JSONValue] = [:]
            space(b, &i)
            if i < b.count, b[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
            while i < b.count {
                space(b, &i)
                let key = try string(b, &i)
                space(b, &i)
                i += 1  // ':'
                members[key] = try build(b, &i)
                space(b, &i)
                guard i < b.count else { break }
                let c = b[i]
                i += 1
                if c == UInt8(ascii: "}") { return .object(members) }
            }
            throw JSONScanner.Malformed()
        case UInt8(ascii: "["):
            i += 1
            var items: [JSONValue] = []
            space(b, &i)
            if i < b.count, b[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
            while i < b.count {
                items.append(try build(b, &i))
                space(b, &i)
                guard i < b.count else { break }
                let c = b[i]
                i += 1
                if c == UInt8(ascii: "]") { return .array(items) }
            }
            throw JSONScanner.Malformed()
        case UInt8(ascii: "\""):
            return .string(try string(b, &i))
        case UInt8(ascii: "t"): i += 4; return .bool(true)
        case UInt8(ascii: "f"): i += 5; return .bool(false)
        case UInt8(ascii: "n"): i += 4; return .null
        default:
            let start = i
            while i < b.count, b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: ".")
                    || b[i] | 0x20 == UInt8(ascii: "e") || (b[i] >= 0x30 && b[i] <= 0x39) { i += 1 }
            guard let d = Double(String(decoding: UnsafeRawBufferPointer(rebasing: b[start..<i]), as: UTF8.self)), d.isFinite
            else { throw JSONScanner.Malformed() }
            return .number(d)
        }
    }

    /// A string at `i` (its opening quote): raw when it has no escape (the scanner has checked its UTF-8),
    /// else decoded by the scanner itself.
    private static func string(_ b: UnsafeRawBufferPointer, _ i: inout Int) throws -> String {
        let start = i
        i += 1
        var escaped = false
        while i < b.count, b[i] != UInt8(ascii: "\"") {
            if b[i] == UInt8(ascii: "\\") { escaped = true; i += 1 }
            i += 1
        }
        guard i < b.count else { throw JSONScanner.Malformed() }
        i += 1
        if !escaped { return String(decoding: UnsafeRawBufferPointer(rebasing: b[(start + 1)..<(i - 1)]), as: UTF8.self) }
        var decoded: String?
        try JSONScanner.scan(Array("{\"s\":".utf8) + Array(UnsafeRawBufferPointer(rebasing: b[start..<i])) + [UInt8(ascii: "}")]) { _, v in
            if case .string(let s) = v { decoded = s }
        }
        guard let decoded else { throw JSONScanner.Malformed() }
        return decoded
    }
}
