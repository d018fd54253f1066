/// A keyed container over one object's members. The error paths are built only when thrown.
struct JSONKeyedNodeContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: JSONMembers
    let codingPath: [any CodingKey]

    /// The keys a lookup finds: a `Key` whose `stringValue` has other bytes than the name (an enum's
    /// `init(stringValue:)` matches canonically equivalent text) is left out.
    var allKeys: [Key] {
        members.pairs.compactMap { pair in Key(stringValue: pair.key).flatMap { $0.stringValue.sameBytes(as: pair.key) ? $0 : nil } }
    }

    func contains(_ key: Key) -> Bool { members[key.stringValue] != nil }

    private func node(_ key: Key) throws -> JSONNode {
        guard let node = members[key.stringValue] else {
            throw DecodingError.keyNotFound(
                key,
                .init(
                    codingPath: codingPath,
                    debugDescription: "No value associated with key \(key.stringValue)."))
        }
        return node
    }

    /// The member, or nil when it is missing or null (`decodeIfPresent`'s one lookup instead of three).
    private func present(_ key: Key) -> JSONNode? {
        guard let node = members[key.stringValue], !node.isNull else { return nil }
        return node
    }

    private func path(_ key: Key) -> [any CodingKey] { codingPath + [key] }

    func decodeNil(forKey key: Key) throws -> Bool { try node(key).isNull }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try node(key).bool(path(key)) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try node(key).string(path(key)) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try node(key).double(path(key)) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try node(key).float(path(key)) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try node(key).integer(type, path(key)) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try node(key).integer(type, path(key)) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try node(key).integer(type, path(key)) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try node(key).integer(type, path(key)) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try node(key).integer(type, path(key)) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try node(key).integer(type, path(key)) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try node(key).integer(type, path(key)) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try node(key).integer(type, path(key)) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try node(key).integer(type, path(key)) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try node(key).integer(type, path(key)) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try JSONNodeDecoder(node: node(key), codingPath: path(key)).unwrap(type)
    }

    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? { try present(key)?.bool(path(key)) }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? { try present(key)?.string(path(key)) }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? { try present(key)?.double(path(key)) }
    func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? { try present(key)?.float(path(key)) }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { try present(key)?.integer(type, path(key)) }
    func decodeIfPresent(_ type: Int8.Type, forKey key: Key) throws -> Int8? { try present(key)?.integer(type, path(key)) }
    func decodeIfPresent(_ type: Int16.Type, forKey key: Key) throws -> Int16? { try present(key)?.integer(type, path(key)) }
    func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? { try present(key)?.integer(type, path(key)) }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? { try present(key)?.integer(type, path(key)) }
    func decodeIfPresent(_ type: UInt.Type, forKey key: Key) throws -> UInt? { try present(key)?.integer(type, path(key)) }
    func decodeIfPresent(_ type: UInt8.Type, forKey key: Key) throws -> UInt8? { try present(key)?.integer(type, path(key)) }
    func decodeIfPresent(_ type: UInt16.Type, forKey key: Key) throws -> UInt16? { try present(key)?.integer(type, path(key)) }
    func decodeIfPresent(_ type: UInt32.Type, forKey key: Key) throws -> UInt32? { try present(key)?.integer(type, path(key)) }
    func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? { try present(key)?.integer(type, path(key)) }
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let node = present(key) else { return nil }
        return try JSONNodeDecoder(node: node, codingPath: path(key)).unwrap(type)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        try JSONNodeDecoder(node: node(key), codingPath: path(key)).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try JSONNodeDecoder(node: node(key), codingPath: path(key)).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        JSONNodeDecoder(node: members[JSONCodingKey.super.stringValue] ?? .null, codingPath: codingPath + [JSONCodingKey.super])
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        JSONNodeDecoder(node: members[key.stringValue] ?? .null, codingPath: path(key))
    }
}
