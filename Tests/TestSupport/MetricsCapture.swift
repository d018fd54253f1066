import JSON
import LambdaRuntime
import LocalHosting

#if canImport(Glibc)
    import Glibc
#endif

/// The EMF lines `body` writes, parsed: metrics on (for `function`, into a pipe) for its duration, off after.
public func captureMetrics(function: String, _ body: () throws -> Void) throws -> [JSONValue] {
    var fds: [Int32] = [0, 0]
    guard pipe(&fds) == 0 else { throw SubprocessError.spawnFailed(path: "pipe", errno: errno) }
    defer { close(fds[0]) }
    Metrics.shared.configure(try MetricsOptions(enabled: true, namespace: "ClerkTest"), function: function, fd: fds[1])
    do {
        try body()
    } catch {
        Metrics.shared.configure(.off, function: "")
        close(fds[1])
        throw error
    }
    Metrics.shared.configure(.off, function: "")
    close(fds[1])
    return try String(decoding: FileIO.readAll(fd: fds[0]), as: UTF8.self).split(separator: "\n")
        .map { try JSONValue.parse(Array($0.utf8)) }
}
