/// The `Decoder` over one node of a parsed document; a struct (no reference counting of its own), and its
/// own single-value container.
struct JSONNodeDecoder: Decoder, SingleValueDecodingContainer {
    let node: JSONNode
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    /// Decodes a `T` from this node: scalars the stdlib would route through a container are converted
    /// directly (an array of strings would otherwise build a decoder per element).
    func unwrap<T: Decodable>(_ type: T.Type) throws -> T {
        if T.self == String.self, let v = try node.string(codingPath) as? T { return v }
        if T.self == Int.self, let v = try node.integer(Int.self, codingPath) as? T { return v }
        if T.self == Int64.self, let v = try node.integer(Int64.self, codingPath) as? T { return v }
        if T.self == Bool.self, let v = try node.bool(codingPath) as? T { return v }
        if T.self == Double.self, let v = try node.double(codingPath) as? T { return v }
        if T.self == JSONValue.self, let v = node.jsonValue as? T { return v }
        return try T(from: self)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = node else {
            throw node.containerMismatch([String: Any].self, codingPath, "keyed decoding container")
        }
        return KeyedDecodingContainer(JSONKeyedNodeContainer<Key>(members: members, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let items) = node else {
            throw node.containerMismatch([Any].self, codingPath, "unkeyed decoding container")
        }
        return JSONUnkeyedNodeContainer(items: items, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    // MARK: SingleValueDecodingContainer

    func decodeNil() -> Bool { node.isNull }
    func decode(_ type: Bool.Type) throws -> Bool { try node.bool(codingPath) }
    func decode(_ type: String.Type) throws -> String { try node.string(codingPath) }
    func decode(_ type: Double.Type) throws -> Double { try node.double(codingPath) }
    func decode(_ type: Float.Type) throws -> Float { try node.float(codingPath) }
    func decode(_ type: Int.Type) throws -> Int { try node.integer(type, codingPath) }
    func decode(_ type: Int8.Type) throws -> Int8 { try node.integer(type, codingPath) }
    func decode(_ type: Int16.Type) throws -> Int16 { try node.integer(type, codingPath) }
    func decode(_ type: Int32.Type) throws -> Int32 { try node.integer(type, codingPath) }
    func decode(_ type: Int64.Type) throws -> Int64 { try node.integer(type, codingPath) }
    func decode(_ type: UInt.Type) throws -> UInt { try node.integer(type, codingPath) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try node.integer(type, codingPath) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try node.integer(type, codingPath) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try node.integer(type, codingPath) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try node.integer(type, codingPath) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try unwrap(type) }
}

extension JSONNode {
    /// Foundation's errors for a container of the wrong kind: null is `valueNotFound`, else `typeMismatch`.
    func containerMismatch(_ type: Any.Type, _ path: [any CodingKey], _ what: String) -> DecodingError {
        if isNull {
            return .valueNotFound(type, .init(codingPath: path, debugDescription: "Cannot get \(what) -- found null value instead"))
        }
        return .typeMismatch(type, .init(codingPath: path, debugDescription: "Expected to decode \(type) but found \(kindDescription) instead."))
    }
}
