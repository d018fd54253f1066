#if canImport(Glibc)
import Glibc
#endif

/// A Lambda Runtime API server on loopback: what the Lambda service offers a custom runtime, in-process.
///
/// Tests and the benchmark drive the real runtime loop (or the shipped binary) against it; it answers the
/// four Runtime API calls the way Lambda does (200 for `next`, 202 for results, 403 for an id that is not
/// outstanding), and can be told to answer responses with another status (413, 500) to test those paths.
public final class LocalRuntimeAPI: @unchecked Sendable {
    /// What the runtime posted for one invocation.
    public struct Outcome: Sendable {
        /// `response` or `error`.
        public var isError: Bool
        /// The posted body.
        public var body: [UInt8]
        /// `Lambda-Runtime-Function-Error-Type`, for errors.
        public var errorType: String?
    }

    /// One event to hand out.
    public struct Event: Sendable {
        /// The request id.
        public var requestId: String
        /// The event body.
        public var body: [UInt8]
        /// Epoch ms deadline.
        public var deadlineMs: Int64
        /// The trace header value.
        public var traceId: String
        /// The function ARN.
        public var invokedFunctionArn: String
        /// Client context JSON, when any.
        public var clientContext: String?
        /// Cognito identity JSON, when any.
        public var cognitoIdentity: String?
    }

    /// The bound port.
    public private(set) var port: Int = 0
    /// `host:port`, the value for `AWS_LAMBDA_RUNTIME_API`.
    public var endpoint: String { "127.0.0.1:\(port)" }

    private let lock = ConditionLock()
    private var listenFD: Int32 = -1
    private var connections: Set<Int32> = []
    private var pending: [Event] = []
    private var repeating: (body: [UInt8], remaining: Int)?
    private var sequence = 0
    private var outstanding: Set<String> = []
    private var outcomes: [String: Outcome] = [:]
    private var stopped = false
    private var recordOutcomes = true

    /// Responses larger than this get 413, as Lambda's synchronous limit (6,291,556 bytes).
    public var maxResponseBytes = 6_291_556

    /// Status to answer `POST …/response` with instead of 202 (413 or 500 in tests).
    public var responseStatusOverride: Int? {
        get { lock.withLock { _responseStatus } }
        set { lock.withLock { _responseStatus = newValue } }
    }
    private var _responseStatus: Int?

    /// Bodies posted to `/init/error`, with their error type header.
    public private(set) var initErrors: [(errorType: String?, body: [UInt8])] = []
    /// How many results (responses and errors) arrived.
    public private(set) var completed = 0
    /// How many error results arrived.
    public private(set) var errorCount = 0
    /// TCP connections accepted.
    public private(set) var connectionCount = 0
    /// Monotonic ns of the first `next` and of the last result.
    public private(set) var firstNextNs: UInt64 = 0
    public private(set) var lastResultNs: UInt64 = 0
    /// Wall-clock ns (epoch) of the first `next`: exec-to-first-next is measured from it.
    public private(set) var firstNextWallNs: Int64 = 0

    /// Binds `127.0.0.1:port` (0 picks a free port) and starts accepting.
    public init(port requested: Int = 0) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SubprocessError.spawnFailed(path: "socket", errno: errno) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(requested).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            let e = errno
            close(fd)
            throw SubprocessError.spawnFailed(path: "bind 127.0.0.1:\(requested)", errno: e)
        }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        port = Int(UInt16(bigEndian: addr.sin_port))
        listenFD = fd
        Threads.detach { [self] in acceptLoop() }
    }

    deinit { stop() }

    /// Queues an event; returns its request id.
    @discardableResult
    public func enqueue(_ body: [UInt8], deadlineMs: Int64? = nil, traceId: String? = nil,
                        clientContext: String? = nil, cognitoIdentity: String? = nil) -> String {
        let id: String = lock.withLock {
            sequence += 1
            return "req-\(sequence)"
        }
        let event = Event(
            requestId: id, body: body, deadlineMs: deadlineMs ?? Clock.nowMs() + 30_000,
            traceId: traceId ?? "Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0",
            invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:local",
            clientContext: clientContext, cognitoIdentity: cognitoIdentity)
        lock.withLock { pending.append(event) }
        lock.broadcast()
        return id
    }

    /// Hands out the same body `count` times without storing outcomes (the benchmark's mode).
    public func enqueueRepeating(_ body: [UInt8], count: Int) {
        lock.withLock {
            repeating = (body, count)
            recordOutcomes = false
        }
        lock.broadcast()
    }

    /// Waits for the outcome of `requestId`.
    public func outcome(of requestId: String, timeoutMs: Int64 = 10_000) -> Outcome? {
        var result: Outcome?
        _ = lock.wait(timeoutMs: timeoutMs) {
            result = outcomes[requestId]
            return result != nil
        }
        return result
    }

    /// Queues `body` and waits for its outcome.
    public func invoke(_ body: [UInt8], timeoutMs: Int64 = 10_000, deadlineMs: Int64? = nil,
                       traceId: String? = nil) -> Outcome? {
        outcome(of: enqueue(body, deadlineMs: deadlineMs, traceId: traceId), timeoutMs: timeoutMs)
    }

    /// Waits until `count` results have arrived; returns whether they did in time.
    public func waitForCompleted(_ count: Int, timeoutMs: Int64) -> Bool {
        lock.wait(timeoutMs: timeoutMs) { completed >= count }
    }

    /// Waits until an init error has been posted.
    public func waitForInitError(timeoutMs: Int64) -> Bool {
        lock.wait(timeoutMs: timeoutMs) { !initErrors.isEmpty }
    }

    /// Closes the listener and every connection: a runtime waiting on `next` sees its connection lost.
    public func stop() {
        let fds: [Int32] = lock.withLock {
            guard !stopped else { return [] }
            stopped = true
            return [listenFD] + Array(connections)
        }
        for fd in fds { shutdown(fd, Int32(SHUT_RDWR)) }
        lock.broadcast()
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
            let accepted = lock.withLock {
                if stopped { return false }
                connections.insert(fd)
                connectionCount += 1
                return true
            }
            guard accepted else {
                close(fd)
                continue
            }
            Threads.detach { [self] in serve(fd) }
        }
    }

    private func serve(_ fd: Int32) {
        var reader = HTTPRequestReader(fd: fd)
        defer {
            lock.withLock { _ = connections.remove(fd) }
            close(fd)
        }
        while let request = reader.next() {
            let reply: [UInt8]?
            if request.method == "GET" && request.path == "/2018-06-01/runtime/invocation/next" {
                reply = nextEvent()
            } else if request.method == "POST" && request.path == "/2018-06-01/runtime/init/error" {
                lock.withLock { initErrors.append((request.header("lambda-runtime-function-error-type"), request.body)) }
                lock.broadcast()
                reply = Self.status(202, body: "{\"status\":\"OK\"}")
            } else if request.method == "POST", request.path.hasPrefix("/2018-06-01/runtime/invocation/") {
                reply = result(request)
            } else {
                reply = Self.status(404, body: "")
            }
            guard let reply else { return }
            let ok = reply.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) == $0.count }
            if !ok { return }
        }
    }

    private func nextEvent() -> [UInt8]? {
        var event: Event?
        _ = lock.wait {
            if stopped { return true }
            if !pending.isEmpty {
                event = pending.removeFirst()
            } else if let r = repeating, r.remaining > 0 {
                sequence += 1
                repeating = (r.body, r.remaining - 1)
                event = Event(requestId: "req-\(sequence)", body: r.body, deadlineMs: Clock.nowMs() + 60_000,
                              traceId: "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1",
                              invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:bench")
            } else {
                return false
            }
            if firstNextNs == 0 {
                firstNextNs = Clock.monotonicNs()
                var ts = timespec()
                clock_gettime(CLOCK_REALTIME, &ts)
                firstNextWallNs = Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
            }
            outstanding.insert(event!.requestId)
            return true
        }
        guard let event else { return nil }
        var head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        head += "Lambda-Runtime-Aws-Request-Id: \(event.requestId)\r\n"
        head += "Lambda-Runtime-Deadline-Ms: \(event.deadlineMs)\r\n"
        head += "Lambda-Runtime-Invoked-Function-Arn: \(event.invokedFunctionArn)\r\n"
        head += "Lambda-Runtime-Trace-Id: \(event.traceId)\r\n"
        if let c = event.clientContext { head += "Lambda-Runtime-Client-Context: \(c)\r\n" }
        if let c = event.cognitoIdentity { head += "Lambda-Runtime-Cognito-Identity: \(c)\r\n" }
        head += "Content-Length: \(event.body.count)\r\n\r\n"
        return Array(head.utf8) + event.body
    }

    private func result(_ request: HTTPRequestReader.Request) -> [UInt8] {
        let rest = request.path.dropFirst("/2018-06-01/runtime/invocation/".count)
        guard let slash = rest.lastIndex(of: "/") else { return Self.status(404, body: "") }
        let id = String(rest[..<slash])
        let kind = rest[rest.index(after: slash)...]
        guard kind == "response" || kind == "error" else { return Self.status(404, body: "") }
        let isError = kind == "error"
        let status: Int = lock.withLock {
            guard outstanding.contains(id) else { return 403 }
            if !isError && request.body.count > maxResponseBytes { return 413 }
            if !isError, let forced = _responseStatus {
                if forced == 413 { return 413 }  // Lambda keeps the id open after a 413
                outstanding.remove(id)
                return forced
            }
            outstanding.remove(id)
            completed += 1
            if isError { errorCount += 1 }
            lastResultNs = Clock.monotonicNs()
            if recordOutcomes {
                outcomes[id] = Outcome(isError: isError, body: request.body,
                                       errorType: request.header("lambda-runtime-function-error-type"))
            }
            return 202
        }
        lock.broadcast()
        switch status {
        case 202: return Self.accepted
        case 403: return Self.status(403, body: "{\"errorMessage\":\"Invalid request ID\",\"errorType\":\"InvalidRequestID\"}")
        case 413: return Self.status(413, body: "{\"errorMessage\":\"Exceeded maximum allowed payload size\",\"errorType\":\"RequestEntityTooLarge\"}")
        default: return Self.status(status, body: "{\"errorType\":\"ServiceException\"}")
        }
    }

    private static let accepted = status(202, body: "{\"status\":\"OK\"}")

    private static func status(_ code: Int, body: String) -> [UInt8] {
        let reason = [202: "Accepted", 403: "Forbidden", 404: "Not Found", 413: "Request Entity Too Large",
                      500: "Internal Server Error"][code] ?? "Status"
        return Array("HTTP/1.1 \(code) \(reason)\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8)
    }
}

/// Reads HTTP/1.1 requests (Content-Length or chunked bodies) from a connected socket.
struct HTTPRequestReader {
    struct Request {
        var method: String
        var path: String
        var headers: [(String, String)]
        var body: [UInt8]
        func header(_ name: String) -> String? { headers.first { $0.0 == name }?.1 }
    }

    let fd: Int32
    var buffer: [UInt8] = []
    var start = 0
    private var chunk = [UInt8](repeating: 0, count: 65536)

    init(fd: Int32) { self.fd = fd }

    private mutating func fill() -> Bool {
        if start > 0 && start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { return false }
        buffer.append(contentsOf: chunk[0..<n])
        return true
    }

    private func find(_ pattern: [UInt8], from: Int) -> Int? {
        guard buffer.count >= pattern.count else { return nil }
        var i = from
        outer: while i + pattern.count <= buffer.count {
            for j in 0..<pattern.count where buffer[i + j] != pattern[j] {
                i += 1
                continue outer
            }
            return i
        }
        return nil
    }

    mutating func next() -> Request? {
        var headEnd: Int?
        while true {
            headEnd = find([13, 10, 13, 10], from: start)
            if headEnd != nil { break }
            if buffer.count - start > 65536 || !fill() { return nil }
        }
        let head = String(decoding: buffer[start..<headEnd!], as: UTF8.self)
        start = headEnd! + 4
        var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
        let requestLine = lines.removeFirst().split(separator: " ")
        guard requestLine.count >= 2 else { return nil }
        var headers: [(String, String)] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((line[..<colon].lowercased(),
                            String(line[line.index(after: colon)...].drop(while: { $0 == " " }))))
        }
        var body: [UInt8] = []
        if let te = headers.first(where: { $0.0 == "transfer-encoding" }), te.1.lowercased().contains("chunked") {
            while true {
                var lineEnd = find([13, 10], from: start)
                while lineEnd == nil {
                    guard fill() else { return nil }
                    lineEnd = find([13, 10], from: start)
                }
                let sizeText = String(decoding: buffer[start..<lineEnd!], as: UTF8.self).split(separator: ";").first ?? ""
                guard let size = Int(sizeText.trimmingWhitespace(), radix: 16) else { return nil }
                start = lineEnd! + 2
                while buffer.count - start < size + 2 { guard fill() else { return nil } }
                body.append(contentsOf: buffer[start..<(start + size)])
                start += size + 2
                if size == 0 { break }
            }
        } else if let cl = headers.first(where: { $0.0 == "content-length" }), let length = Int(cl.1) {
            while buffer.count - start < length { guard fill() else { return nil } }
            body = Array(buffer[start..<(start + length)])
            start += length
        }
        return Request(method: String(requestLine[0]), path: String(requestLine[1]), headers: headers, body: body)
    }
}
