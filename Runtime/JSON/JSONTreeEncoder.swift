/// The `Encoder` for one value: it holds what the value encoded (nil until it encodes something) and is
/// its own single-value container. A reference, because containers and `superEncoder`s fill it later.
final class JSONTreeEncoder: Encoder, SingleValueEncodingContainer {
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    var value: EncodedJSON?

    init(codingPath: [any CodingKey]) { self.codingPath = codingPath }

    /// Encodes `value` into a fresh encoder at `path`; a value that encodes nothing is `{}` (as Foundation).
    static func encoded<T: Encodable>(_ value: T, at path: @autoclosure () -> [any CodingKey]) throws -> EncodedJSON {
        if let scalar = try scalar(value, path()) { return scalar }
        let encoder = JSONTreeEncoder(codingPath: path())
        try value.encode(to: encoder)
        return encoder.value ?? .object(EncodedJSONObject())
    }

    /// The common scalars directly: the stdlib encodes `[String]` element by element through the generic
    /// method, which would otherwise make an encoder per element.
    private static func scalar<T: Encodable>(_ value: T, _ path: @autoclosure () -> [any CodingKey]) throws -> EncodedJSON? {
        if T.self == String.self, let s = value as? String { return .string(s) }
        if T.self == Int.self, let n = value as? Int { return .number(String(n)) }
        if T.self == Int64.self, let n = value as? Int64 { return .number(String(n)) }
        if T.self == Bool.self, let b = value as? Bool { return .bool(b) }
        if T.self == Double.self, let d = value as? Double { return try number(d, path()) }
        return nil
    }

    /// Swift's shortest round-trip text (`1e+300`, `1e-05` are valid JSON), without a trailing `.0`;
    /// NaN and infinities have no JSON spelling.
    static func number<F: BinaryFloatingPoint & CustomStringConvertible>(_ value: F, _ path: @autoclosure () -> [any CodingKey]) throws
        -> EncodedJSON
    {
        guard value.isFinite else {
            throw EncodingError.invalidValue(
                value, .init(codingPath: path(), debugDescription: "Unable to encode \(F.self).\(value) directly in JSON."))
        }
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        return .number(text)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        // A second request (a subclass and its superclass sharing one encoder) fills the same object.
        let object: EncodedJSONObject
        if case .object(let existing)? = value {
            object = existing
        } else {
            object = EncodedJSONObject()
            value = .object(object)
        }
        return KeyedEncodingContainer(JSONKeyedTreeContainer<Key>(object: object, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let array: EncodedJSONArray
        if case .array(let existing)? = value {
            array = existing
        } else {
            array = EncodedJSONArray()
            value = .array(array)
        }
        return JSONUnkeyedTreeContainer(array: array, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { self }

    // MARK: SingleValueEncodingContainer (a second encode replaces the first; Foundation would trap)

    func encodeNil() { value = .null }
    func encode(_ value: Bool) { self.value = .bool(value) }
    func encode(_ value: String) { self.value = .string(value) }
    func encode(_ value: Double) throws { self.value = try JSONTreeEncoder.number(value, codingPath) }
    func encode(_ value: Float) throws { self.value = try JSONTreeEncoder.number(value, codingPath) }
    func encode(_ value: Int) { self.value = .number(String(value)) }
    func encode(_ value: Int8) { self.value = .number(String(value)) }
    func encode(_ value: Int16) { self.value = .number(String(value)) }
    func encode(_ value: Int32) { self.value = .number(String(value)) }
    func encode(_ value: Int64) { self.value = .number(String(value)) }
    func encode(_ value: UInt) { self.value = .number(String(value)) }
    func encode(_ value: UInt8) { self.value = .number(String(value)) }
    func encode(_ value: UInt16) { self.value = .number(String(value)) }
    func encode(_ value: UInt32) { self.value = .number(String(value)) }
    func encode(_ value: UInt64) { self.value = .number(String(value)) }
    func encode<T: Encodable>(_ value: T) throws { self.value = try JSONTreeEncoder.encoded(value, at: codingPath) }
}
