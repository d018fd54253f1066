/// Decodes `Decodable` values from JSON bytes read with the strict scanner's rules, without Foundation.
///
/// Semantics are those of Foundation's `JSONDecoder` with default strategies (missing key `keyNotFound`,
/// null `valueNotFound`, wrong kind `typeMismatch`, integers only when exactly representable), but the
/// document itself must pass `JSONScanner.validate`: malformed input is one `dataCorrupted` error that
/// never echoes the input. A member name is its UTF-8 bytes: a key finds only the member spelled with its
/// `stringValue`'s exact bytes, and names Swift's `String` calls equal (canonically equivalent) are two
/// members; `JSONValue` keeps both, while a `[String: T]` merges them, as any Swift dictionary does.
public struct StrictJSONDecoder: Sendable {
    /// Creates a decoder (it has no options).
    public init() {}

    /// Decodes a `T` from `bytes`.
    public func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        let node: JSONNode
        do {
            node = try JSONScanner.node(bytes)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "malformed JSON"))
        }
        return try JSONNodeDecoder(node: node, codingPath: []).unwrap(T.self)
    }
}
