/// A parsed JSON document as `StrictJSONDecoder` walks it. Numbers keep their literal text, so each target
/// type converts it exactly (an `Int64` beyond 2^53 is not rounded through `Double` on the way). Not
/// `indirect`: arrays and members already hold their elements out of line, and boxing every scalar cost
/// an allocation per value (about a tenth of decoding a Clerk event).
enum JSONNode: Sendable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONNode])
    case object(JSONMembers)

    /// For type-mismatch messages: the kind found, never the value.
    var kindDescription: String {
        switch self {
        case .null: return "null"
        case .bool: return "a bool"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "a dictionary"
        }
    }

    var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The same value as a `JSONValue` (numbers as `Double`; the scanner has checked they are finite).
    var jsonValue: JSONValue {
        switch self {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .number(let text): return .number(Double(text) ?? 0)
        case .string(let s): return .string(s)
        case .array(let items): return .array(items.map(\.jsonValue))
        case .object(let members):
            // Names are already unique by their bytes (the reader refused a second one).
            var object = JSONObject(capacity: members.pairs.count)
            for (name, value) in members.pairs { object[name] = value.jsonValue }
            return .object(object)
        }
    }
}
