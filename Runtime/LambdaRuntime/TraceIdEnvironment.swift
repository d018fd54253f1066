#if canImport(Glibc)
    import Glibc
#endif

/// Keeps `_X_AMZN_TRACE_ID` equal to the current invocation's trace header without leaking.
///
/// glibc's `setenv` allocates a fresh `NAME=value` string per new value and never frees the old one, so a
/// warm container calling it once per invocation grows without bound. Here one buffer is handed to
/// `putenv` once (the environment then points at it) and rewritten in place.
final class TraceIdEnvironment {
    private static let prefix = Array("_X_AMZN_TRACE_ID=".utf8)
    private let capacity = 2048
    private let buffer: UnsafeMutablePointer<CChar>
    private var installed = false

    init() {
        buffer = .allocate(capacity: capacity)
        buffer.initialize(repeating: 0, count: capacity)
        for (i, b) in Self.prefix.enumerated() { buffer[i] = CChar(bitPattern: b) }
    }

    // Never freed: once installed the environment refers to it for the life of the process.

    /// Sets the variable to `traceId`, or removes it when empty.
    func set(_ traceId: String) {
        if traceId.isEmpty {
            unsetenv("_X_AMZN_TRACE_ID")
            installed = false
            return
        }
        var value = traceId
        let fits: Bool = value.withUTF8 { utf8 in
            guard Self.prefix.count + utf8.count < capacity else { return false }
            UnsafeMutableRawPointer(buffer + Self.prefix.count).copyMemory(from: utf8.baseAddress!, byteCount: utf8.count)
            buffer[Self.prefix.count + utf8.count] = 0
            return true
        }
        if !fits {
            // Longer than any X-Ray header seen in practice; correctness over thrift.
            setenv("_X_AMZN_TRACE_ID", traceId, 1)
            installed = false
            return
        }
        if !installed {
            putenv(buffer)
            installed = true
        }
    }
}
