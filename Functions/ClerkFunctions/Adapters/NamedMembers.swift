import JSON

/// An object's members as pairs, each name by its bytes. A Swift `[String: …]` merges names Swift calls equal
/// (composed and decomposed `é`), keeping one of their values and dropping the rest, and iterates in an order
/// seeded per process; events read through this keep every member, in an order every process agrees on.
struct NamedMembers<Value: Decodable>: Decodable {
    /// The members in the document's order.
    var pairs: [(name: String, value: Value)]

    private struct Name: CodingKey {
        let stringValue: String
        init?(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Name.self)
        pairs = try c.allKeys.map { ($0.stringValue, try c.decode(Value.self, forKey: $0)) }
    }

    /// The members in the order of their names' UTF-8 bytes.
    var byNameBytes: [(name: String, value: Value)] { pairs.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) } }
}
