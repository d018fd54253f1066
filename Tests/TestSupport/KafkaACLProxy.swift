import LambdaRuntime
import LocalHosting

#if canImport(Glibc)
    import Glibc
#endif

/// A Kafka-protocol proxy in front of the test broker that plays a cluster's ACLs: for the topics `deny`
/// names, its Metadata answers say `TOPIC_AUTHORIZATION_FAILED` (29) with no partitions, as Kafka does for a
/// principal without an ACL on the topic (an MSK cluster whose ACL is missing), so a client never writes
/// to them; `allowAll` is the ACL fixed. Every Metadata answer names the proxy as the broker, so the client
/// keeps talking through it. It reads Metadata versions 1 to 8 (librdkafka 2.0 asks v4); an answer in any other
/// version is passed on untouched and counted in `unreadable`, which a test asserts is zero.
public final class KafkaACLProxy: @unchecked Sendable {
    private let lock = ConditionLock()
    private var denied: Set<String> = []
    private var unreadableCount = 0
    private let listenFD: Int32
    private let targetPort: UInt16
    /// The proxy's port on 127.0.0.1.
    public let port: Int
    /// `127.0.0.1:<port>`: `KAFKA_BROKERS` through the proxy.
    public var brokers: String { "127.0.0.1:\(port)" }

    /// Listens on a free loopback port and forwards to the broker at `target` (`host:port`).
    public init(target: String) throws {
        guard let at = target.lastIndex(of: ":"), let p = UInt16(target[target.index(after: at)...]) else {
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
        Threads.detach { [self] in acceptLoop() }
    }

    deinit {
        shutdown(listenFD, Int32(SHUT_RDWR))
        close(listenFD)
    }

    /// From now on, Metadata answers refuse `topics` (the ACL is missing).
    public func deny(_ topics: Set<String>) { lock.withLock { denied = topics } }

    /// Every topic is allowed again (the ACL is fixed).
    public func allowAll() { lock.withLock { denied = [] } }

    /// Metadata answers the proxy could not read (a version it does not know).
    public var unreadable: Int { lock.withLock { unreadableCount } }

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
            // Which Metadata versions the client asked, by correlation id, for reading the answers.
            let asked = ConditionLock()
            nonisolated(unsafe) var metadataVersions: [Int32: Int] = [:]
            Threads.detach { [self] in
                pumpFrames(from: client, to: server) { frame in
                    // Request header: api_key int16, api_version int16, correlation_id int32.
                    if frame.count >= 8, frame[0] == 0, frame[1] == 3 {
                        let version = Int(frame[2]) << 8 | Int(frame[3])
                        asked.withLock { metadataVersions[Self.int32(frame, 4)] = version }
                    }
                    return frame
                }
            }
            Threads.detach { [self] in
                pumpFrames(from: server, to: client) { frame in
                    guard frame.count >= 4, let version = asked.withLock({ metadataVersions.removeValue(forKey: Self.int32(frame, 0)) })
                    else { return frame }
                    return rewriteMetadata(frame, version: version)
                }
            }
        }
    }

    /// Copies length-prefixed frames from `from` to `to`, each through `transform`.
    private func pumpFrames(from: Int32, to: Int32, transform: ([UInt8]) -> [UInt8]) {
        defer {
            shutdown(to, Int32(SHUT_WR))
            shutdown(from, Int32(SHUT_RD))
        }
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(from, &chunk, chunk.count, 0)
            if n <= 0 { return }
            buffer += chunk[0..<n]
            var out: [UInt8] = []
            var offset = 0
            while offset + 4 <= buffer.count {
                let size = Int(Self.int32(buffer, offset))
                guard size >= 0, offset + 4 + size <= buffer.count else { break }
                let frame = transform(Array(buffer[(offset + 4)..<(offset + 4 + size)]))
                out += Self.bytes(Int32(frame.count)) + frame
                offset += 4 + size
            }
            buffer.removeFirst(offset)
            if !out.isEmpty, !send(all: out, to: to) { return }
        }
    }

    /// The Metadata answer with the proxy as its broker and the denied topics refused.
    private func rewriteMetadata(_ frame: [UInt8], version: Int) -> [UInt8] {
        guard (1...8).contains(version) else {
            lock.withLock { unreadableCount += 1 }
            return frame
        }
        let denied = lock.withLock { self.denied }
        var r = MetadataReader(bytes: frame)
        guard let out = try? r.rewrite(version: version, port: Int32(port), denied: denied) else {
            lock.withLock { unreadableCount += 1 }
            return frame
        }
        return out
    }

    static func int32(_ b: [UInt8], _ at: Int) -> Int32 {
        Int32(bitPattern: UInt32(b[at]) << 24 | UInt32(b[at + 1]) << 16 | UInt32(b[at + 2]) << 8 | UInt32(b[at + 3]))
    }

    static func bytes(_ v: Int32) -> [UInt8] {
        let u = UInt32(bitPattern: v)
        return [UInt8(u >> 24), UInt8(u >> 16 & 0xFF), UInt8(u >> 8 & 0xFF), UInt8(u & 0xFF)]
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

/// Reads a non-flexible Metadata answer (v1 to v8) and writes it again with changes.
private struct MetadataReader {
    struct Short: Error {}
    let bytes: [UInt8]
    var at = 0
    var out: [UInt8] = []

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, at + n <= bytes.count else { throw Short() }
        defer { at += n }
        return bytes[at..<(at + n)]
    }

    mutating func int16() throws -> Int {
        let b = try take(2)
        return Int(Int16(bitPattern: UInt16(b[b.startIndex]) << 8 | UInt16(b[b.startIndex + 1])))
    }
    mutating func int32() throws -> Int32 {
        let b = Array(try take(4))
        return KafkaACLProxy.int32(b, 0)
    }
    mutating func copy(_ n: Int) throws { out += try take(n) }
    mutating func copyString() throws -> String? {
        let n = try int16()
        out += [UInt8(UInt16(bitPattern: Int16(n)) >> 8), UInt8(UInt16(bitPattern: Int16(n)) & 0xFF)]
        guard n >= 0 else { return nil }
        let s = try take(n)
        out += s
        return String(decoding: s, as: UTF8.self)
    }
    mutating func skipInt32Array() throws {
        let n = try int32()
        _ = try take(Int(max(n, 0)) * 4)
    }

    mutating func rewrite(version: Int, port: Int32, denied: Set<String>) throws -> [UInt8] {
        try copy(4)  // correlation id
        if version >= 3 { try copy(4) }  // throttle_time_ms
        let brokers = try int32()
        out += KafkaACLProxy.bytes(brokers)
        for _ in 0..<max(brokers, 0) {
            try copy(4)  // node_id
            _ = try copyString()  // host
            _ = try int32()
            out += KafkaACLProxy.bytes(port)
            _ = try copyString()  // rack
        }
        if version >= 2 { _ = try copyString() }  // cluster_id
        try copy(4)  // controller_id
        let topics = try int32()
        out += KafkaACLProxy.bytes(topics)
        for _ in 0..<max(topics, 0) { try rewriteTopic(version: version, denied: denied) }
        try copy(bytes.count - at)  // cluster_authorized_operations (v8)
        return out
    }

    mutating func rewriteTopic(version: Int, denied: Set<String>) throws {
        let errorAt = out.count
        try copy(2)  // error_code
        let name = try copyString() ?? ""
        try copy(1)  // is_internal
        let start = at
        let partitions = try int32()
        for _ in 0..<max(partitions, 0) {
            _ = try take(version >= 7 ? 14 : 10)  // error_code, partition_index, leader_id[, leader_epoch]
            try skipInt32Array()  // replica_nodes
            try skipInt32Array()  // isr_nodes
            if version >= 5 { try skipInt32Array() }  // offline_replicas
        }
        if denied.contains(name) {
            out[errorAt] = 0
            out[errorAt + 1] = 29  // TOPIC_AUTHORIZATION_FAILED
            out += KafkaACLProxy.bytes(0)
        } else {
            out += bytes[start..<at]
        }
        if version >= 8 { try copy(4) }  // topic_authorized_operations
    }
}
