/// A keyed container filling one object; encoding a key twice keeps the last value.
struct JSONKeyedTreeContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let object: EncodedJSONObject
    let codingPath: [any CodingKey]

    private func path(_ key: Key) -> [any CodingKey] { codingPath + [key] }

    mutating func encodeNil(forKey key: Key) { object.members[JSONName(key.stringValue)] = .null }
    mutating func encode(_ value: Bool, forKey key: Key) { object.members[JSONName(key.stringValue)] = .bool(value) }
    mutating func encode(_ value: String, forKey key: Key) { object.members[JSONName(key.stringValue)] = .string(value) }
    mutating func encode(_ value: Double, forKey key: Key) throws {
        object.members[JSONName(key.stringValue)] = try JSONTreeEncoder.number(value, path(key))
    }
    mutating func encode(_ value: Float, forKey key: Key) throws {
        object.members[JSONName(key.stringValue)] = try JSONTreeEncoder.number(value, path(key))
    }
    mutating func encode(_ value: Int, forKey key: Key) { object.members[JSONName(key.stringValue)] = .number(String(value)) }
    mutating func encode(_ value: Int8, forKey key: Key) { object.members[JSONName(key.stringValue)] = .number(String(value)) }
    mutating func encode(_ value: Int16, forKey key: Key) { object.members[JSONName(key.stringValue)] = .number(String(value)) }
    mutating func encode(_ value: Int32, forKey key: Key) { object.members[JSONName(key.stringValue)] = .number(String(value)) }
    mutating func encode(_ value: Int64, forKey key: Key) { object.members[JSONName(key.stringValue)] = .number(String(value)) }
    mutating func encode(_ value: UInt, forKey key: Key) { object.members[JSONName(key.stringValue)] = .number(String(value)) }
    mutating func encode(_ value: UInt8, forKey key: Key) { object.members[JSONName(key.stringValue)] = .number(String(value)) }
    mutating func encode(_ value: UInt16, forKey key: Key) { object.members[JSONName(key.stringValue)] = .number(String(value)) }
    mutating func encode(_ value: UInt32, forKey key: Key) { object.members[JSONName(key.stringValue)] = .number(String(value)) }
    mutating func encode(_ value: UInt64, forKey key: Key) { object.members[JSONName(key.stringValue)] = .number(String(value)) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        object.members[JSONName(key.stringValue)] = try JSONTreeEncoder.encoded(value, at: path(key))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
        -> KeyedEncodingContainer<NestedKey>
    {
        let nested = EncodedJSONObject()
        object.members[JSONName(key.stringValue)] = .object(nested)
        return KeyedEncodingContainer(JSONKeyedTreeContainer<NestedKey>(object: nested, codingPath: path(key)))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let nested = EncodedJSONArray()
        object.members[JSONName(key.stringValue)] = .array(nested)
        return JSONUnkeyedTreeContainer(array: nested, codingPath: path(key))
    }

    mutating func superEncoder() -> any Encoder {
        let encoder = JSONTreeEncoder(codingPath: codingPath + [JSONCodingKey.super])
        object.members[JSONName(JSONCodingKey.super.stringValue)] = .deferred(encoder)
        return encoder
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        let encoder = JSONTreeEncoder(codingPath: path(key))
        object.members[JSONName(key.stringValue)] = .deferred(encoder)
        return encoder
    }
}
