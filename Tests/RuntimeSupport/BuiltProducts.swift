import JSON
import LambdaRuntime
import LocalHosting

#if canImport(Glibc)
    import Glibc
#endif

/// Paths of the built products, found next to the test bundle.
public enum BuiltProducts {
    /// The `clerk-functions` executable of this build.
    public static var clerkFunctions: String {
        if let explicit = Environment.process()["CLERK_FUNCTIONS_BIN"] { return explicit }
        return product("clerk-functions")
    }

    /// The `bootstrap` executable of this build (what the Lambda zip ships).
    public static var bootstrap: String {
        if let explicit = Environment.process()["CLERK_BOOTSTRAP_BIN"] { return explicit }
        return product("bootstrap")
    }

    /// The executable `name` next to the test bundle.
    public static func product(_ name: String) -> String {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        let exe = n > 0 ? String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
        var dir = String(exe[..<(exe.lastIndex(of: "/") ?? exe.endIndex)])
        // The xctest binary may sit inside a .xctest bundle folder.
        while !dir.isEmpty && !FileIO.exists(dir + "/" + name) {
            guard let slash = dir.lastIndex(of: "/") else { break }
            dir = String(dir[..<slash])
        }
        return dir + "/" + name
    }

    /// The package root (for `events/`).
    public static var packageRoot: String {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)  // <root>/Tests/RuntimeSupport/X.swift
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }

    /// Reads `events/<name>`.
    public static func event(_ name: String) throws -> [UInt8] {
        try FileIO.read(packageRoot + "/events/" + name)
    }
}

/// A plain environment for child processes: PATH plus the given variables.
public func childEnvironment(_ extra: [String: String]) -> [String: String] {
    var env = ["PATH": "/usr/local/bin:/usr/bin:/bin", "AWS_LAMBDA_LOG_LEVEL": "debug"]
    for (k, v) in extra { env[k] = v }
    return env
}

extension Array where Element == UInt8 {
    /// The bytes as UTF-8 text.
    public var text: String { String(decoding: self, as: UTF8.self) }
}
