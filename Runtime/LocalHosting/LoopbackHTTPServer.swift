import JSON
import LambdaRuntime

#if canImport(Glibc)
    import Glibc
#endif

/// A small HTTP/1.1 server on 127.0.0.1, one thread per connection, for local tools and tests
/// (a JWKS endpoint, a profile-service stand-in). Loopback only, by construction.
public final class LoopbackHTTPServer: @unchecked Sendable {
    /// A request as received.
    public struct Request: Sendable {
        /// `GET`, `POST`, ...
        public var method: String
        /// The request target, query string included.
        public var path: String
        /// Header names lower-cased, in arrival order.
        public var headers: [(String, String)]
        /// The body bytes.
        public var body: [UInt8]
        /// The first header named `name` (lower-case).
        public func header(_ name: String) -> String? { headers.first { $0.0 == name }?.1 }

        /// Creates a request (the server builds them; tests too).
        public init(method: String, path: String, headers: [(String, String)], body: [UInt8]) {
            self.method = method
            self.path = path
            self.headers = headers
            self.body = body
        }
    }

    /// What to answer.
    public struct Response: Sendable {
        /// The status code.
        public var status: Int
        /// Headers to send (Content-Length is added).
        public var headers: [(String, String)]
        /// The body bytes.
        public var body: [UInt8]
        /// Send the body with `Transfer-Encoding: chunked` instead of `Content-Length`.
        public var chunked = false

        /// Creates a response.
        public init(status: Int, headers: [(String, String)] = [], body: [UInt8] = [], chunked: Bool = false) {
            self.status = status
            self.headers = headers
            self.body = body
            self.chunked = chunked
        }

        /// A JSON response.
        public static func json(_ status: Int, _ text: String) -> Response {
            Response(status: status, headers: [("Content-Type", "application/json")], body: Array(text.utf8))
        }
    }

    /// The bound port.
    public let port: Int
    /// `http://127.0.0.1:<port>`.
    public var baseURL: String { "http://127.0.0.1:\(port)" }
    private let listenFD: Int32
    private let handler: @Sendable (Request) -> Response?
    private let lock = ConditionLock()
    private var stopped = false
    private var open: Set<Int32> = []
    private var accepted = 0

    /// Request bodies larger than this get 413 before they are read (Lambda's limit is 6 MB).
    public let maxBodyBytes: Int

    /// Connections accepted so far.
    public var connectionCount: Int { lock.withLock { accepted } }

    /// Binds 127.0.0.1:`port` (0 picks one) and serves `handler`, which runs on the connection's own thread
    /// (so it may block, as the Runtime API's `next` does) and may return nil to close the connection unanswered.
    public init(
        port requested: Int = 0, maxBodyBytes: Int = 7 << 20,
        handler: @escaping @Sendable (Request) -> Response?
    ) throws {
        self.maxBodyBytes = maxBodyBytes
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(requested).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok =
            withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            } == 0 && listen(fd, 64) == 0
        guard fd >= 0, ok else {
            let e = errno
            if fd >= 0 { close(fd) }
            throw SubprocessError.spawnFailed(path: "bind 127.0.0.1:\(requested)", errno: e)
        }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        port = Int(UInt16(bigEndian: addr.sin_port))
        listenFD = fd
        self.handler = handler
        Threads.detach { [self] in acceptLoop() }
    }

    deinit { stop() }

    /// Stops listening and closes open connections.
    public func stop() {
        let fds: [Int32] = lock.withLock {
            guard !stopped else { return [] }
            stopped = true
            return [listenFD] + Array(open)
        }
        for fd in fds { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    private func acceptLoop() {
        while true {
            let fd = accept(listenFD, nil, nil)
            if fd < 0 {
                if errno == EINTR { continue }
                close(listenFD)
                return
            }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            let kept = lock.withLock { () -> Bool in
                if stopped { return false }
                open.insert(fd)
                accepted += 1
                return true
            }
            guard kept else {
                close(fd)
                continue
            }
            Threads.detach { [self] in serve(fd) }
        }
    }

    private func serve(_ fd: Int32) {
        defer {
            lock.withLock { _ = open.remove(fd) }
            close(fd)
        }
        var reader = HTTPRequestReader(fd: fd, maxBodyBytes: maxBodyBytes)
        while true {
            let response: Response
            switch reader.next() {
            case .closed:
                return
            case .refused(let status, let reason):
                // Answer, then close: what follows a refused request cannot be framed. Read (and drop) what
                // the peer is still sending for a moment first, or its kernel sees a reset instead of the answer.
                _ = Self.send(fd, Response(status: status, headers: [("Connection", "close")], body: Array(reason.utf8)))
                Self.lingeringClose(fd)
                return
            case .request(let r):
                let request = Request(method: r.method, path: r.path, headers: r.headers, body: r.body)
                if let refusal = Self.crossSiteRefusal(request) {
                    _ = Self.send(fd, refusal)
                    continue
                }
                guard let answer = handler(request) else { return }
                response = answer
            }
            guard Self.send(fd, response) else { return }
        }
    }

    /// Half-closes, then drains up to 16 MiB for at most a second, so the refusal reaches the peer.
    static func lingeringClose(_ fd: Int32) {
        shutdown(fd, Int32(SHUT_WR))
        var tv = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var junk = [UInt8](repeating: 0, count: 65536)
        var drained = 0
        while drained < 16 << 20 {
            let n = junk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            drained += n
        }
    }

    /// Local servers act on what they receive (the emulator runs functions against the developer's
    /// database), so a web page must not reach them: a DNS-rebinding page sends its own `Host`, and a
    /// cross-site form post carries a foreign `Origin`. Both get 403.
    public static func crossSiteRefusal(_ request: Request) -> Response? {
        guard let host = request.header("host"), isLoopback(hostPort: host) else {
            return .json(403, #"{"message":"Forbidden: Host must be a loopback name or address"}"#)
        }
        if let origin = request.header("origin"), origin != "null" {
            let hostPart = origin.split(separator: "/", omittingEmptySubsequences: true).dropFirst().first.map(String.init) ?? ""
            guard origin.hasPrefix("http://") || origin.hasPrefix("https://"), isLoopback(hostPort: hostPart) else {
                return .json(403, #"{"message":"Forbidden: cross-origin request"}"#)
            }
        } else if request.header("origin") == "null" {
            return .json(403, #"{"message":"Forbidden: cross-origin request"}"#)
        }
        // A cross-site GET (an <img>, a no-cors fetch) carries no Origin, but browsers mark it.
        if request.header("sec-fetch-site")?.lowercased() == "cross-site" {
            return .json(403, #"{"message":"Forbidden: cross-site request"}"#)
        }
        return nil
    }

    /// `localhost`, `*.localhost`, `127.x.x.x` or `[::1]`, with or without a port.
    public static func isLoopback(hostPort: String) -> Bool {
        var host = Substring(hostPort.lowercased())
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return false }
            let rest = host[host.index(after: close)...]
            guard rest.isEmpty || (rest.first == ":" && rest.count <= 6 && rest.dropFirst().allSatisfy(\.isNumber)) else { return false }
            return host[host.index(after: host.startIndex)..<close] == "::1"
        }
        if let colon = host.lastIndex(of: ":") { host = host[..<colon] }
        if host == "localhost" || host.hasSuffix(".localhost") { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "127" else { return false }
        return parts.allSatisfy { p in !p.isEmpty && p.count <= 3 && p.allSatisfy(\.isNumber) && (Int(p) ?? 256) <= 255 }
    }

    private static func send(_ fd: Int32, _ response: Response) -> Bool {
        var head = "HTTP/1.1 \(response.status) \(Self.reason(response.status))\r\n"
        for (k, v) in response.headers { head += "\(k): \(v)\r\n" }
        var bytes: [UInt8]
        if response.chunked {
            head += "Transfer-Encoding: chunked\r\n\r\n"
            bytes = Array(head.utf8)
            // Uneven chunk sizes, so a reader cannot lean on one size.
            var offset = 0
            var size = 1
            while offset < response.body.count {
                let n = min(size, response.body.count - offset)
                bytes += Array((String(n, radix: 16) + "\r\n").utf8)
                bytes += response.body[offset..<(offset + n)]
                bytes += [0x0D, 0x0A]
                offset += n
                size = size >= 16_384 ? 1 : size * 7 + 3
            }
            bytes += Array("0\r\n\r\n".utf8)
        } else {
            head += "Content-Length: \(response.body.count)\r\n\r\n"
            bytes = Array(head.utf8)
            bytes += response.body
        }
        let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        return sent == bytes.count
    }

    private static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 202: "Accepted"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 413: "Request Entity Too Large"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        default: "Status"
        }
    }
}
