#if canImport(Glibc)
    import Glibc
#endif

/// A snapshot of configuration variables: the process environment, optionally completed by a `.env` file.
public struct Environment: Sendable {
    /// The variables, by name.
    public var values: [String: String]

    /// Wraps explicit values (tests build configurations this way).
    public init(_ values: [String: String]) { self.values = values }

    /// The current process environment, read from `environ`.
    public static func process() -> Environment {
        var values: [String: String] = [:]
        var cursor = environ
        while let entry = cursor.pointee {
            let text = String(cString: entry)
            if let eq = text.firstIndex(of: "=") {
                values[String(text[..<eq])] = String(text[text.index(after: eq)...])
            }
            cursor += 1
        }
        return Environment(values)
    }

    /// The value of `name`, or nil when unset or empty.
    public subscript(name: String) -> String? {
        guard let v = values[name], !v.isEmpty else { return nil }
        return v
    }
}
