/// Any JSON value, for payloads whose shape is open (raw webhook data, token claims, unknown events).
public enum JSONValue: Sendable, Equatable, Codable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    /// Members by name, a name being its UTF-8 bytes (`JSONObject`).
    case object(JSONObject)

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let d = try? c.decode(Double.self) {
            self = .number(d)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([JSONValue].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode(JSONObject.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let d):
            // Both encoders write an integral Double below 2^53 as its digits (Swift's `1000.0`, less the `.0`),
            // as an Int64 would; -0 as 0. No `rounded()` test: that needs libm, which this module does not link.
            try c.encode(d == 0 ? 0 : d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    /// The member of an object whose name is `key`'s UTF-8 bytes, else nil.
    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    /// The string, when this is one.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The number, when this is one.
    public var doubleValue: Double? {
        if case .number(let d) = self { return d }
        return nil
    }

    /// The boolean, when this is one.
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// Parses `bytes` as JSON, with the strict scanner's rules. Throws `DecodingError.dataCorrupted`.
    public static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        try JSONCoding.decoder.decode(JSONValue.self, from: bytes)
    }

    /// Compact JSON text with sorted keys.
    public func serialized() -> String {
        (try? String(decoding: JSONCoding.encoder.encode(self), as: UTF8.self)) ?? "null"
    }
}
