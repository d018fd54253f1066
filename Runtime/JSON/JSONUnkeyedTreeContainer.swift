/// An unkeyed container appending to one array.
struct JSONUnkeyedTreeContainer: UnkeyedEncodingContainer {
    let array: EncodedJSONArray
    let codingPath: [any CodingKey]

    var count: Int { array.items.count }

    private var path: [any CodingKey] { codingPath + [JSONCodingKey(index: count)] }

    mutating func encodeNil() { array.items.append(.null) }
    mutating func encode(_ value: Bool) { array.items.append(.bool(value)) }
    mutating func encode(_ value: String) { array.items.append(.string(value)) }
    mutating func encode(_ value: Double) throws { array.items.append(try JSONTreeEncoder.number(value, path)) }
    mutating func encode(_ value: Float) throws { array.items.append(try JSONTreeEncoder.number(value, path)) }
    mutating func encode(_ value: Int) { array.items.append(.number(String(value))) }
    mutating func encode(_ value: Int8) { array.items.append(.number(String(value))) }
    mutating func encode(_ value: Int16) { array.items.append(.number(String(value))) }
    mutating func encode(_ value: Int32) { array.items.append(.number(String(value))) }
    mutating func encode(_ value: Int64) { array.items.append(.number(String(value))) }
    mutating func encode(_ value: UInt) { array.items.append(.number(String(value))) }
    mutating func encode(_ value: UInt8) { array.items.append(.number(String(value))) }
    mutating func encode(_ value: UInt16) { array.items.append(.number(String(value))) }
    mutating func encode(_ value: UInt32) { array.items.append(.number(String(value))) }
    mutating func encode(_ value: UInt64) { array.items.append(.number(String(value))) }
    mutating func encode<T: Encodable>(_ value: T) throws { array.items.append(try JSONTreeEncoder.encoded(value, at: path)) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let nested = EncodedJSONObject()
        let nestedPath = path
        array.items.append(.object(nested))
        return KeyedEncodingContainer(JSONKeyedTreeContainer<NestedKey>(object: nested, codingPath: nestedPath))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let nested = EncodedJSONArray()
        let nestedPath = path
        array.items.append(.array(nested))
        return JSONUnkeyedTreeContainer(array: nested, codingPath: nestedPath)
    }

    mutating func superEncoder() -> any Encoder {
        let encoder = JSONTreeEncoder(codingPath: path)
        array.items.append(.deferred(encoder))
        return encoder
    }
}
