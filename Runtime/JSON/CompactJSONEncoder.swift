/// Encodes `Encodable` values as compact JSON bytes without Foundation: keys sorted by UTF-8 bytes, `/`
/// unescaped; byte for byte Foundation's `JSONEncoder` with `[.sortedKeys, .withoutEscapingSlashes]`.
public struct CompactJSONEncoder: Sendable {
    /// Creates an encoder (it has no options).
    public init() {}

    /// The JSON text of `value`. Throws `EncodingError.invalidValue` for NaN or infinite numbers and for a
    /// value that encodes nothing at all (as Foundation does).
    public func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = JSONTreeEncoder(codingPath: [])
        try value.encode(to: encoder)
        guard let tree = encoder.value else {
            throw EncodingError.invalidValue(value, .init(codingPath: [], debugDescription: "Top-level \(T.self) did not encode any values."))
        }
        var out: [UInt8] = []
        out.reserveCapacity(256)
        tree.write(to: &out)
        return out
    }
}
