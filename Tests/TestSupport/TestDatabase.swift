import LambdaRuntime
import Store
#if canImport(Glibc)
import Glibc
#endif

/// The PostgreSQL server the tests run against: `DATABASE_URL`, which `make test` always provides
/// (a private cluster when none is given). Without it the tests fail with a clear message; they never skip.
public enum TestDatabase {
    /// `DATABASE_URL`, or a fatal error naming the command to run.
    public static var url: String {
        guard let url = Environment.process()["DATABASE_URL"] else {
            fatalError("DATABASE_URL is not set: run the tests with `make test`, which starts a private PostgreSQL")
        }
        return url
    }

    /// A new connection with the schema migrated.
    public static func connect() throws -> PostgresConnection {
        let c = try PostgresConnection(url: url)
        try Migrator.migrate(c)
        return c
    }

    /// Empties every application table (tests start from a known state).
    public static func reset(_ c: PostgresConnection) throws {
        try c.query("TRUNCATE users, subscriptions, usage_metrics, webhook_deliveries, api_keys, outbox, queue_rejects CASCADE")
    }

    /// Restarts the server when the test run started it (`CLERK_LOCAL_POSTGRES`); returns false otherwise.
    public static func restartServer() -> Bool {
        guard let script = Environment.process()["CLERK_LOCAL_POSTGRES"] else { return false }
        let r = try? Subprocess.run(path: "/bin/bash", arguments: [script, "restart"], environment: Environment.process().values)
        return r?.exit.code == 0
    }
}

/// Paths of the built products, found next to the test bundle.
public enum BuiltProducts {
    /// The `clerk-functions` executable of this build.
    public static var clerkFunctions: String {
        if let explicit = Environment.process()["CLERK_FUNCTIONS_BIN"] { return explicit }
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        let exe = n > 0 ? String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
        var dir = String(exe[..<(exe.lastIndex(of: "/") ?? exe.endIndex)])
        // The xctest binary may sit inside a .xctest bundle folder.
        while !dir.isEmpty && !FileIO.exists(dir + "/clerk-functions") {
            guard let slash = dir.lastIndex(of: "/") else { break }
            dir = String(dir[..<slash])
        }
        return dir + "/clerk-functions"
    }

    /// The package root (for `events/`).
    public static var packageRoot: String {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)  // <root>/Tests/TestSupport/X.swift
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
