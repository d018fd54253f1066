import JSON
import LambdaRuntime
import LocalHosting

#if canImport(Glibc)
    import Glibc
#endif

/// A TCP proxy in front of the test broker that lets a relay connect and log in normally, then holds
/// everything the client sends from its first `basic.publish` on until `release()`: a relay stalled in
/// the middle of a batch, with its rows read and the broker not yet told.
public final class StallingBrokerProxy: @unchecked Sendable {
    private let lock = ConditionLock()
    private var stalled = false
    private var released = false
    private let listenFD: Int32
    private let targetPort: UInt16
    /// The proxy's port on 127.0.0.1.
    public let port: Int
    /// `amqp://guest:guest@127.0.0.1:<port>`: the broker's URL through the proxy.
    public let url: String

    /// Listens on a free loopback port and forwards to the broker at `target` (`amqp://user:pass@127.0.0.1:port`).
    public init(target: String) throws {
        guard let at = target.lastIndex(of: ":"), let p = UInt16(target[target.index(after: at)...].prefix { $0.isNumber }) else {
            throw SubprocessError.spawnFailed(path: "proxy target \(target)", errno: EINVAL)
        }
        targetPort = p
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var addr = Self.loopback(0)
        let ok =
            withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            } == 0 && listen(fd, 16) == 0
        guard fd >= 0, ok else { throw SubprocessError.spawnFailed(path: "proxy listen", errno: errno) }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        listenFD = fd
        port = Int(UInt16(bigEndian: addr.sin_port))
        let credentials = target.range(of: "://").map { r in target[r.upperBound...].split(separator: "@").first.map(String.init) ?? "" } ?? ""
        url = "amqp://\(credentials.isEmpty ? "guest:guest" : credentials)@127.0.0.1:\(port)"
        Threads.detach { [self] in acceptLoop() }
    }

    deinit {
        release()
        shutdown(listenFD, Int32(SHUT_RDWR))
        close(listenFD)
    }

    /// Waits until a client's `basic.publish` is being held (false after `timeoutMs`).
    public func waitUntilStalled(timeoutMs: Int64 = 30_000) -> Bool { lock.wait(timeoutMs: timeoutMs) { stalled } }

    /// Lets the held bytes (and everything after them) through.
    public func release() {
        lock.withLock { released = true }
        lock.broadcast()
    }

    private static func loopback(_ port: UInt16) -> sockaddr_in {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(port.bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return addr
    }

    private func acceptLoop() {
        while true {
            let client = accept(listenFD, nil, nil)
            if client < 0 { if errno == EINTR { continue } else { return } }
            let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            var addr = Self.loopback(targetPort)
            let connected =
                withUnsafePointer(to: &addr) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                } == 0
            guard connected else {
                close(client)
                close(server)
                continue
            }
            Threads.detach { [self] in pump(from: server, to: client, holding: false) }
            Threads.detach { [self] in pump(from: client, to: server, holding: true) }
        }
    }

    /// Copies `from` to `to`. When `holding`, parses AMQP frames (after the 8-byte protocol header) and,
    /// at the first `basic.publish` method frame (class 60, method 40), stops until released.
    private func pump(from: Int32, to: Int32, holding: Bool) {
        defer {
            shutdown(to, Int32(SHUT_WR))
            shutdown(from, Int32(SHUT_RD))
        }
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        var parsing = holding
        var offset = 8  // where the next frame starts in `buffer` (frames follow the 8-byte protocol header)
        while true {
            let n = recv(from, &chunk, chunk.count, 0)
            if n <= 0 { return }
            guard parsing else {
                if !send(all: Array(chunk[0..<n]), to: to) { return }
                continue
            }
            buffer += chunk[0..<n]
            guard buffer.count >= offset else { continue }
            var stallHere = false
            while offset + 7 <= buffer.count {
                let size = Int(buffer[offset + 3]) << 24 | Int(buffer[offset + 4]) << 16 | Int(buffer[offset + 5]) << 8 | Int(buffer[offset + 6])
                let end = offset + 7 + size + 1
                guard end <= buffer.count else { break }
                if buffer[offset] == 1, size >= 4, buffer[offset + 7] == 0, buffer[offset + 8] == 60,
                    buffer[offset + 9] == 0, buffer[offset + 10] == 40
                {
                    stallHere = true
                    break
                }
                offset = end
            }
            if !send(all: Array(buffer[0..<offset]), to: to) { return }
            buffer.removeFirst(offset)
            offset = 0
            if stallHere {
                lock.withLock { stalled = true }
                lock.broadcast()
                _ = lock.wait { released }
                if !send(all: buffer, to: to) { return }
                parsing = false
                buffer = []
            }
        }
    }

    private func send(all bytes: [UInt8], to fd: Int32) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            sent += n
        }
        return true
    }
}
