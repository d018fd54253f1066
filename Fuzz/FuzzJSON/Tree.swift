/// Any JSON value, as `JSONValue` reads it but through the generic containers, with every number read as
/// each numeric type that holds it (nil where it does not): the two decoders' integer and floating-point
/// conversions compared on every number the fuzzer writes.
indirect enum Tree: Codable, Equatable {
    struct Number: Codable, Equatable {
        var uint8: UInt8?, int32: Int32?, int64: Int64?, uint64: UInt64?, float: Float?, double: Double?
    }

    case null
    case bool(Bool)
    case number(Number)
    case string(String)
    case array([Tree])
    case object([String: Tree])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
            return
        }
        if let b = try? c.decode(Bool.self) {
            self = .bool(b)
            return
        }
        if let d = try? c.decode(Double.self) {
            self = .number(
                Number(
                    uint8: try? c.decode(UInt8.self), int32: try? c.decode(Int32.self), int64: try? c.decode(Int64.self),
                    uint64: try? c.decode(UInt64.self), float: try? c.decode(Float.self), double: d))
            return
        }
        if let s = try? c.decode(String.self) {
            self = .string(s)
            return
        }
        if let a = try? c.decode([Tree].self) {
            self = .array(a)
            return
        }
        self = .object(try c.decode([String: Tree].self))
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let n): try c.encode(n)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }
}
