/// Short, value-free descriptions of decoding errors (they name the path, never the data).
public enum DecodingErrorText {
    /// Describes `error` by coding path and kind.
    public static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return String(describing: type(of: error)) }
        func path(_ context: DecodingError.Context) -> String {
            let p = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
            return p.isEmpty ? "the top level" : p
        }
        switch error {
        case .dataCorrupted(let c): return "malformed JSON at \(path(c))"
        case .keyNotFound(let key, let c): return "missing key \(key.stringValue) at \(path(c))"
        case .typeMismatch(let type, let c): return "expected \(type) at \(path(c))"
        case .valueNotFound(let type, let c): return "null where \(type) was expected at \(path(c))"
        @unknown default: return "undecodable"
        }
    }
}
