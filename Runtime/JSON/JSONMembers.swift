/// An object's members in document order, with a hash index only when there are more than 16: most
/// objects are small and many are never looked into (metadata, nested Clerk records the types skip), so
/// hashing every name while reading cost more than scanning a few names on lookup. Names are unique (a
/// second one is refused while reading, with `String`'s equality, as `JSONScanner.validate` does).
struct JSONMembers: Sendable {
    private(set) var pairs: [(key: String, value: JSONNode)] = []
    private var index: [String: Int]?

    /// Adds a member; false when `key` is already there.
    mutating func add(_ key: String, _ value: JSONNode) -> Bool {
        if index != nil {
            // In place (no copy of the index): nil when the name is new.
            guard index?.updateValue(pairs.count, forKey: key) == nil else { return false }
        } else {
            for pair in pairs where pair.key == key { return false }
            if pairs.count == 16 {
                var built: [String: Int] = [:]
                built.reserveCapacity(64)
                for (k, pair) in pairs.enumerated() { built[pair.key] = k }
                built[key] = pairs.count
                index = built
            }
        }
        pairs.append((key, value))
        return true
    }

    /// The value of member `key`, if any.
    subscript(key: String) -> JSONNode? {
        if let index {
            guard let k = index[key] else { return nil }
            return pairs[k].value
        }
        for pair in pairs where pair.key == key { return pair.value }
        return nil
    }
}
