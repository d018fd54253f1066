/// An object's members in document order, with a hash index only when there are more than 16: most
/// objects are small and many are never looked into (metadata, nested Clerk records the types skip), so
/// hashing every name while reading cost more than scanning a few names on lookup. Names are unique by
/// their UTF-8 bytes (a second one is refused while reading, as `JSONScanner.validate` does); names Swift
/// calls equal but spelled with other bytes are two members, and a lookup finds only its own bytes.
struct JSONMembers: Sendable {
    private(set) var pairs: [(key: String, value: JSONNode)] = []
    private var index: [JSONName: Int]?

    /// Adds a member; false when a name with `key`'s bytes is already there.
    mutating func add(_ key: String, _ value: JSONNode) -> Bool {
        if index != nil {
            // In place (no copy of the index): nil when the name is new.
            guard index?.updateValue(pairs.count, forKey: JSONName(key)) == nil else { return false }
        } else {
            for pair in pairs where pair.key.sameBytes(as: key) { return false }
            if pairs.count == 16 {
                var built: [JSONName: Int] = [:]
                built.reserveCapacity(64)
                for (k, pair) in pairs.enumerated() { built[JSONName(pair.key)] = k }
                built[JSONName(key)] = pairs.count
                index = built
            }
        }
        pairs.append((key, value))
        return true
    }

    /// The value of the member whose name is `key`'s bytes, if any.
    subscript(key: String) -> JSONNode? {
        if let index {
            guard let k = index[JSONName(key)] else { return nil }
            return pairs[k].value
        }
        for pair in pairs where pair.key.sameBytes(as: key) { return pair.value }
        return nil
    }
}
