import FoundationEssentials

/// One JSON encoder and decoder per process: creating them per invocation (per response, per event)
/// cost allocations on every hot path. Both are safe to share across threads.
public enum JSONCoding {
    /// Compact output with sorted keys and unescaped slashes (stable, readable responses).
    public static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    /// The decoder.
    public static let decoder = JSONDecoder()
}
