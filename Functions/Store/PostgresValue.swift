/// A Swift value sent as a statement parameter, in PostgreSQL's text format.
public protocol PostgresEncodable: Sendable {
    /// The text form the server parses.
    var postgresText: String { get }
}

/// A Swift value read from a column's text form.
public protocol PostgresDecodable {
    /// Parses the column text; nil when it is not this type.
    init?(postgresText: String)
}

extension String: PostgresEncodable, PostgresDecodable {
    public var postgresText: String { self }
    public init?(postgresText: String) { self = postgresText }
}

extension Int: PostgresEncodable, PostgresDecodable {
    public var postgresText: String { String(self) }
    public init?(postgresText: String) { self.init(postgresText) }
}

extension Int64: PostgresEncodable, PostgresDecodable {
    public var postgresText: String { String(self) }
    public init?(postgresText: String) { self.init(postgresText) }
}

extension Double: PostgresEncodable, PostgresDecodable {
    public var postgresText: String { String(self) }
    public init?(postgresText: String) { self.init(postgresText) }
}

extension Bool: PostgresEncodable, PostgresDecodable {
    public var postgresText: String { self ? "t" : "f" }
    public init?(postgresText: String) {
        switch postgresText {
        case "t", "true": self = true
        case "f", "false": self = false
        default: return nil
        }
    }
}

/// A point in time sent and read as epoch milliseconds: bind it with `to_timestamp($n / 1000.0)` and read
/// `(extract(epoch from col) * 1000)::bigint`, which avoids parsing date text on the hot path.
public struct EpochMillis: PostgresEncodable, PostgresDecodable, Sendable, Equatable, Comparable {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    public var value: Int64
    /// Wraps a millisecond count.
    public init(_ value: Int64) { self.value = value }
    public var postgresText: String { String(value) }
    public init?(postgresText: String) {
        guard let v = Int64(postgresText) ?? Double(postgresText).flatMap({ Int64(exactly: $0.rounded()) }) else { return nil }
        value = v
    }
    public static func < (a: EpochMillis, b: EpochMillis) -> Bool { a.value < b.value }
}
