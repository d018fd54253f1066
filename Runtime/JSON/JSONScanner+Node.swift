extension JSONScanner {
    /// Reads `input` as one JSON value into a tree, in one pass with exactly `validate`'s rules (any kind at
    /// the top level, no duplicate names, no leading zeros, numbers within `Double`'s range, valid UTF-8,
    /// containers nested at most `maxDepth` deep). Throws `Malformed`.
    static func node(_ input: [UInt8]) throws -> JSONNode {
        try input.withUnsafeBytes { raw in
            var s = JSONScanner(bytes: raw)
            s.skipSpace()
            let node = try s.node(depth: 0)
            s.skipSpace()
            guard s.i == raw.count else { throw Malformed() }
            return node
        }
    }

    private mutating func node(depth: Int) throws -> JSONNode {
        guard i < bytes.count else { throw Malformed() }
        switch bytes[i] {
        case UInt8(ascii: "{"): return .object(try objectNode(depth: depth))
        case UInt8(ascii: "["): return .array(try arrayNode(depth: depth))
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
        default: return .number(try numberLiteral())
        }
    }

    /// The members of the object at `i` (its `{`).
    private mutating func objectNode(depth: Int) throws -> JSONMembers {
        guard depth < Self.maxDepth else { throw Malformed() }
        i += 1
        var members = JSONMembers()
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") {
            i += 1
            return members
        }
        while true {
            skipSpace()
            let key = try string()
            skipSpace()
            try expect(UInt8(ascii: ":"))
            skipSpace()
            let value = try node(depth: depth + 1)
            // A name twice: one reader would take the first, another the last.
            guard members.add(key, value) else { throw Malformed() }
            skipSpace()
            guard i < bytes.count else { throw Malformed() }
            if bytes[i] == UInt8(ascii: ",") {
                i += 1
                continue
            }
            try expect(UInt8(ascii: "}"))
            return members
        }
    }

    /// The items of the array at `i` (its `[`).
    private mutating func arrayNode(depth: Int) throws -> [JSONNode] {
        guard depth < Self.maxDepth else { throw Malformed() }
        i += 1
        var items: [JSONNode] = []
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") {
            i += 1
            return items
        }
        while true {
            skipSpace()
            items.append(try node(depth: depth + 1))
            skipSpace()
            guard i < bytes.count else { throw Malformed() }
            if bytes[i] == UInt8(ascii: ",") {
                i += 1
                continue
            }
            try expect(UInt8(ascii: "]"))
            return items
        }
    }
}
