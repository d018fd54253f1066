/// An unkeyed container over one array's elements; `currentIndex` moves only when a decode succeeds.
struct JSONUnkeyedNodeContainer: UnkeyedDecodingContainer {
    let items: [JSONNode]
    let codingPath: [any CodingKey]
    private(set) var currentIndex = 0

    init(items: [JSONNode], codingPath: [any CodingKey]) {
        self.items = items
        self.codingPath = codingPath
    }

    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    private var path: [any CodingKey] { codingPath + [JSONCodingKey(index: currentIndex)] }

    /// The element at `currentIndex`, or `valueNotFound` past the end.
    private func next(_ type: Any.Type) throws -> JSONNode {
        guard currentIndex < items.count else {
            throw DecodingError.valueNotFound(type, .init(codingPath: path, debugDescription: "Unkeyed container is at end."))
        }
        return items[currentIndex]
    }

    /// Converts the next element and moves past it; the element's path is built only when asked for.
    private mutating func take<T>(_ type: T.Type, _ convert: (JSONNode, () -> [any CodingKey]) throws -> T) throws -> T {
        let node = try next(type)
        let base = codingPath
        let index = currentIndex
        let value = try convert(node) { base + [JSONCodingKey(index: index)] }
        currentIndex += 1
        return value
    }

    mutating func decodeNil() throws -> Bool {
        guard try next(Any?.self).isNull else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try take(type) { try $0.bool($1()) } }
    mutating func decode(_ type: String.Type) throws -> String { try take(type) { try $0.string($1()) } }
    mutating func decode(_ type: Double.Type) throws -> Double { try take(type) { try $0.double($1()) } }
    mutating func decode(_ type: Float.Type) throws -> Float { try take(type) { try $0.float($1()) } }
    mutating func decode(_ type: Int.Type) throws -> Int { try take(type) { try $0.integer(type, $1()) } }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try take(type) { try $0.integer(type, $1()) } }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try take(type) { try $0.integer(type, $1()) } }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try take(type) { try $0.integer(type, $1()) } }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try take(type) { try $0.integer(type, $1()) } }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try take(type) { try $0.integer(type, $1()) } }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try take(type) { try $0.integer(type, $1()) } }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try take(type) { try $0.integer(type, $1()) } }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try take(type) { try $0.integer(type, $1()) } }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try take(type) { try $0.integer(type, $1()) } }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try take(type) { try JSONNodeDecoder(node: $0, codingPath: $1()).unwrap(type) }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try take(KeyedDecodingContainer<NestedKey>.self) { try JSONNodeDecoder(node: $0, codingPath: $1()).container(keyedBy: type) }
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try take((any UnkeyedDecodingContainer).self) { try JSONNodeDecoder(node: $0, codingPath: $1()).unkeyedContainer() }
    }

    mutating func superDecoder() throws -> any Decoder {
        try take((any Decoder).self) { JSONNodeDecoder(node: $0, codingPath: $1()) }
    }
}
