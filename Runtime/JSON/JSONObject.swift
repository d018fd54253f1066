/// A JSON object's members by name, where a name is its UTF-8 bytes: "café" composed (U+00E9) and
/// decomposed (e + U+0301) are two members, as they are to JavaScript, PostgreSQL's jsonb and Clerk. A
/// `[String: JSONValue]` merged them (Swift's `String` equality is canonical equivalence), so it could not
/// hold a user's metadata as sent. Reads like a dictionary: literals, `object["name"]`, `for (name, value)`.
public struct JSONObject: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral {
    private var members: [JSONName: JSONValue]

    /// An empty object.
    public init() { members = [:] }

    /// The members of `dictionary` (which cannot hold two names Swift calls equal).
    public init(_ dictionary: [String: JSONValue]) {
        members = Dictionary(minimumCapacity: dictionary.count)
        for (name, value) in dictionary { members[JSONName(name)] = value }
    }

    /// The members in order; a later name with the same bytes replaces an earlier one.
    public init<S: Sequence>(members: S) where S.Element == (String, JSONValue) {
        self.members = Dictionary(minimumCapacity: members.underestimatedCount)
        for (name, value) in members { self.members[JSONName(name)] = value }
    }

    /// Members from a literal (a name with the same bytes twice keeps the later value).
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self.init(members: elements) }

    init(capacity: Int) { members = Dictionary(minimumCapacity: capacity) }

    /// The member whose name has `name`'s UTF-8 bytes; setting nil removes it.
    public subscript(name: String) -> JSONValue? {
        get { members[JSONName(name)] }
        set { members[JSONName(name)] = newValue }
    }

    /// How many members.
    public var count: Int { members.count }

    /// True when there are no members.
    public var isEmpty: Bool { members.isEmpty }

    /// The names, in no particular order.
    public var names: [String] { members.keys.map(\.text) }

    /// The same names with each value transformed.
    public func mapValues(_ transform: (JSONValue) throws -> JSONValue) rethrows -> JSONObject {
        var out = JSONObject(capacity: count)
        out.members = try members.mapValues(transform)
        return out
    }

    /// Iterates the members as (key, value), in no particular order.
    public func makeIterator() -> Iterator { Iterator(base: members.makeIterator()) }

    /// The members as (key, value).
    public struct Iterator: IteratorProtocol {
        var base: Dictionary<JSONName, JSONValue>.Iterator

        /// The next member, or nil.
        public mutating func next() -> (key: String, value: JSONValue)? {
            guard let (name, value) = base.next() else { return nil }
            return (name.text, value)
        }
    }

    /// `underestimatedCount` for `Sequence` callers that reserve.
    public var underestimatedCount: Int { members.count }
}

extension JSONObject: Codable {
    /// Reads every member by its own name's bytes (a `[String: JSONValue]` would merge canonically equal
    /// names; Foundation's `JSONDecoder` has merged them before this sees them).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: JSONCodingKey.self)
        let keys = c.allKeys
        self.init(capacity: keys.count)
        for key in keys { members[JSONName(key.stringValue)] = try c.decode(JSONValue.self, forKey: key) }
    }

    /// Writes every member under its own name.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: JSONCodingKey.self)
        for (name, value) in members { try c.encode(value, forKey: JSONCodingKey(stringValue: name.text)) }
    }
}
