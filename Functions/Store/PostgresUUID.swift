/// A `uuid` column's value: 16 bytes, read and written in the canonical lowercase text form.
///
/// Why not Foundation's `UUID`: it was the last reason the Store linked FoundationEssentials into
/// `bootstrap`, and rows only ever need parsing, printing and comparing.
public struct PostgresUUID: Hashable, Sendable, CustomStringConvertible, Codable {
    /// The 16 bytes, most significant first.
    public let bytes: [UInt8]

    /// Parses `8-4-4-4-12` hexadecimal (either case); nil for anything else.
    public init?(uuidString text: String) {
        let utf8 = Array(text.utf8)
        guard utf8.count == 36 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(16)
        var high: UInt8? = nil
        for (i, c) in utf8.enumerated() {
            if i == 8 || i == 13 || i == 18 || i == 23 {
                guard c == UInt8(ascii: "-") else { return nil }
                continue
            }
            guard let nibble = Self.nibble(c) else { return nil }
            if let h = high {
                out.append(h << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        bytes = out
    }

    /// A random (version 4) UUID.
    public static func random() -> PostgresUUID {
        var generator = SystemRandomNumberGenerator()
        var b = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        b[6] = b[6] & 0x0F | 0x40
        b[8] = b[8] & 0x3F | 0x80
        return PostgresUUID(checked: b)
    }

    private init(checked bytes: [UInt8]) { self.bytes = bytes }

    /// The canonical lowercase text.
    public var uuidString: String {
        let hex = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(36)
        for (i, b) in bytes.enumerated() {
            if i == 4 || i == 6 || i == 8 || i == 10 { out.append(UInt8(ascii: "-")) }
            out.append(hex[Int(b >> 4)])
            out.append(hex[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public var description: String { uuidString }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let parsed = PostgresUUID(uuidString: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a UUID"))
        }
        self = parsed
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(uuidString)
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x61...0x66: return c - 0x61 + 10
        case 0x41...0x46: return c - 0x41 + 10
        default: return nil
        }
    }
}

extension PostgresUUID: PostgresEncodable, PostgresDecodable {
    public var postgresText: String { uuidString }
    public init?(postgresText: String) { self.init(uuidString: postgresText) }
}
