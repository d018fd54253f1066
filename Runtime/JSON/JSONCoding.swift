import FoundationEssentials

// TEMPORARY (replaced by the json-coders branch): the [UInt8] API over Foundation's coders.
public struct StrictJSONDecoder: Sendable {
    public init() {}
    public func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        try JSONDecoder().decode(type, from: Data(bytes))
    }
}
public struct CompactJSONEncoder: Sendable {
    public init() {}
    public func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try e.encode(value))
    }
}
public enum JSONCoding {
    public static let encoder = CompactJSONEncoder()
    public static let decoder = StrictJSONDecoder()
}
