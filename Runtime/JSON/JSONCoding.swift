/// One JSON encoder and decoder per process: creating them per invocation (per response, per event)
/// cost allocations on every hot path. Both are stateless values, safe to share across threads.
public enum JSONCoding {
    /// Compact output with sorted keys and unescaped slashes (stable, readable responses).
    public static let encoder = CompactJSONEncoder()

    /// The decoder: the strict scanner's rules, Foundation's `JSONDecoder` semantics.
    public static let decoder = StrictJSONDecoder()
}
