import JSON
import LambdaRuntime

#if canImport(Glibc)
    import Glibc
#endif

/// `.env` files for the local tools (Lambda itself never reads one).
extension Environment {
    /// Parses a `.env` file's text: `KEY=value` lines, `#` comments, optional `export `, single or double quotes.
    public static func parseDotEnv(_ text: String) -> [(String, String)] {
        var result: [(String, String)] = []
        for rawLine in text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            var line = Substring(rawLine).trimmingSpaces()
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = line.dropFirst(7).trimmingSpaces() }
            guard let eq = line.firstIndex(of: "=") else { continue }
            let key = line[..<eq].trimmingSpaces()
            var value = line[line.index(after: eq)...].trimmingSpaces()
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = value.dropFirst().dropLast()
            } else if let hash = value.indices.first(where: {
                value[$0] == "#" && $0 > value.startIndex
                    && value[value.index(before: $0)] == " "
            }) {
                value = value[..<hash].trimmingSpaces()
            }
            if !key.isEmpty { result.append((String(key), String(value))) }
        }
        return result
    }

    /// Loads a `.env` file into the process environment without overriding variables already set.
    /// Returns the number of variables it set; throws when the file cannot be read.
    @discardableResult
    public static func loadDotEnv(path: String) throws -> Int {
        let text = try FileIO.readText(path)
        var count = 0
        for (key, value) in parseDotEnv(text) where getenv(key) == nil {
            setenv(key, value, 0)
            count += 1
        }
        return count
    }
}

extension Substring {
    func trimmingSpaces() -> Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return s
    }
}
