/// A one-dimensional `text[]` (or, cast in SQL, `bigint[]`) parameter in PostgreSQL's array literal form,
/// so a whole page of rows travels as a few parameters of one statement (`unnest($1::text[], …)`).
public struct PostgresArray: PostgresEncodable {
    /// The elements; nil is SQL NULL.
    public var elements: [String?]

    /// Wraps text elements.
    public init(_ elements: [String?]) { self.elements = elements }

    /// Wraps integers.
    public init(_ elements: [Int64?]) { self.elements = elements.map { $0.map(String.init) } }

    public var postgresText: String {
        var out = "{"
        for (i, element) in elements.enumerated() {
            if i > 0 { out += "," }
            guard let element else {
                out += "NULL"
                continue
            }
            out += "\""
            for c in element.unicodeScalars {
                switch c {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\u{0}": break  // text cannot hold NUL; callers strip it first and log that they did
                default: out.unicodeScalars.append(c)
                }
            }
            out += "\""
        }
        return out + "}"
    }
}
