#if canImport(Glibc)
import Glibc
#endif

/// Why the Runtime API could not be used. Each of these ends the process: Lambda restarts it.
public enum RuntimeAPIError: Error, CustomStringConvertible {
    /// The connection failed or was lost.
    case transport(String, call: String)
    /// The Runtime API answered a status this call never expects (500 among them).
    case unexpectedStatus(Int, call: String)
    /// An answer that is not HTTP/1.1 as the Runtime API speaks it.
    case malformedResponse(String, call: String)
    /// A `next` answer without `Lambda-Runtime-Aws-Request-Id`.
    case missingRequestId

    public var description: String {
        switch self {
        case .transport(let why, let call): "Runtime API \(call) failed: \(why)"
        case .unexpectedStatus(let s, let call): "Runtime API \(call) answered HTTP \(s)"
        case .malformedResponse(let why, let call): "Runtime API \(call) answered malformed HTTP: \(why)"
        case .missingRequestId: "Runtime API next answered without a request id"
        }
    }
}

/// One event handed out by `GET /runtime/invocation/next`, with every `Lambda-Runtime-*` header.
public struct Invocation: Sendable {
    /// `Lambda-Runtime-Aws-Request-Id`.
    public var requestId: String = ""
    /// `Lambda-Runtime-Deadline-Ms`.
    public var deadlineMs: Int64 = 0
    /// `Lambda-Runtime-Invoked-Function-Arn`.
    public var invokedFunctionArn: String = ""
    /// `Lambda-Runtime-Trace-Id`.
    public var traceId: String = ""
    /// `Lambda-Runtime-Client-Context`.
    public var clientContext: String?
    /// `Lambda-Runtime-Cognito-Identity`.
    public var cognitoIdentity: String?
    /// The event bytes.
    public var event: [UInt8] = []
}

/// The custom-runtime side of the Lambda Runtime API (2018-06-01): one keep-alive HTTP/1.1 connection.
///
/// Why not libcurl here (libcurl serves every outbound call): on loopback the kernel's cost of a round
/// trip dominates, and a loop that waits for `202` before asking for the next event pays two round trips
/// per invocation. Measured on the target machine kind, even a bare C client doing that costs 83 us of CPU
/// per invocation, above the budget. This client writes the result and the next `GET /next` in one
/// `writev` (HTTP/1.1 pipelining; the Runtime API answers requests on a connection in order), which halves
/// the waits. The rule against pipelining after a POST exists for clients that would retry it; this one
/// never retries, it exits when the connection is lost. Results over `pipelineLimit` bytes are sent alone,
/// so a 413 can still be followed by an error report for the same request.
public final class RuntimeAPIClient {
    private let host: String
    private let port: UInt16
    private let hostHeader: String
    private var fd: Int32 = -1
    private var reader = ResponseReader()
    private var nextInFlight = false
    /// Whether `GET /next` rides behind each result (set `CLERK_RUNTIME_PIPELINING=false` to turn off).
    public var pipelining: Bool
    /// Results larger than this go unpipelined (1 MiB).
    public var pipelineLimit = 1 << 20

    private static let nextRequestTail = " HTTP/1.1\r\nHost: "
    private let nextRequest: [UInt8]

    /// Prepares a client for `endpoint` (`host:port`, as in `AWS_LAMBDA_RUNTIME_API`); connects on first use.
    public init(endpoint: String, pipelining: Bool = true) throws(RuntimeAPIError) {
        guard let colon = endpoint.lastIndex(of: ":"), let p = UInt16(endpoint[endpoint.index(after: colon)...]) else {
            throw .transport("AWS_LAMBDA_RUNTIME_API must be host:port, got '\(endpoint)'", call: "init")
        }
        host = String(endpoint[..<colon]).trimmingBrackets()
        port = p
        hostHeader = endpoint
        self.pipelining = pipelining
        nextRequest = Array("GET /2018-06-01/runtime/invocation/next\(Self.nextRequestTail)\(endpoint)\r\n\r\n".utf8)
    }

    deinit {
        if fd >= 0 { close(fd) }
        reader.release()
    }

    /// Blocks until the next event arrives (no timeout: Lambda freezes the process meanwhile).
    public func next() throws(RuntimeAPIError) -> Invocation {
        if !nextInFlight {
            try connectIfNeeded(call: "next")
            try sendAll([nextRequest], call: "next")
        }
        nextInFlight = false
        let status = try readResponse(call: "next")
        // Lambda answers 200; some emulators answer other 2xx codes.
        guard (200..<300).contains(status) else { throw .unexpectedStatus(status, call: "next") }
        var inv = Invocation()
        inv.event = reader.body
        for (name, value) in reader.runtimeHeaders {
            switch name {
            case "request-id": inv.requestId = value
            case "deadline-ms": inv.deadlineMs = Int64(value) ?? 0
            case "invoked-function-arn": inv.invokedFunctionArn = value
            case "trace-id": inv.traceId = value
            case "client-context": inv.clientContext = value
            case "cognito-identity": inv.cognitoIdentity = value
            default: break
            }
        }
        guard !inv.requestId.isEmpty else { throw .missingRequestId }
        return inv
    }

    /// Posts a result; returns the Runtime API's status (202 accepted, 400, 403, 413).
    public func postResponse(requestId: String, body: [UInt8]) throws(RuntimeAPIError) -> Int {
        try post(path: "invocation/\(requestId)/response", extraHeader: "", body: body, call: "response")
    }

    /// Posts a handled failure with `Lambda-Runtime-Function-Error-Type`; returns the status.
    public func postError(requestId: String, error: LambdaErrorObject) throws(RuntimeAPIError) -> Int {
        try post(path: "invocation/\(requestId)/error", extraHeader: errorTypeHeader(error),
                 body: Array(error.json.utf8), call: "error")
    }

    /// Reports a failed initialisation; the caller exits afterwards.
    public func postInitError(_ error: LambdaErrorObject) throws(RuntimeAPIError) -> Int {
        try post(path: "init/error", extraHeader: errorTypeHeader(error), body: Array(error.json.utf8),
                 call: "init/error", mayPipeline: false)
    }

    private func errorTypeHeader(_ error: LambdaErrorObject) -> String {
        "Lambda-Runtime-Function-Error-Type: \(error.errorType.filter { $0 != "\r" && $0 != "\n" })\r\n"
    }

    private func post(path: String, extraHeader: String, body: [UInt8], call: String, mayPipeline: Bool = true)
        throws(RuntimeAPIError) -> Int
    {
        try connectIfNeeded(call: call)
        let head = Array(("POST /2018-06-01/runtime/\(path) HTTP/1.1\r\nHost: \(hostHeader)\r\n"
            + "Content-Type: application/json\r\n\(extraHeader)Content-Length: \(body.count)\r\n\r\n").utf8)
        let pipelined = mayPipeline && pipelining && !nextInFlight && body.count <= pipelineLimit
        try sendAll(pipelined ? [head, body, nextRequest] : [head, body], call: call)
        if pipelined { nextInFlight = true }
        let status = try readResponse(call: call)
        if status >= 500 { throw .unexpectedStatus(status, call: call) }
        return status
    }

    private func connectIfNeeded(call: String) throws(RuntimeAPIError) {
        guard fd < 0 else { return }
        // A numeric IPv4 address (what Lambda gives) needs no resolver, and the resolver may load NSS modules.
        var v4 = sockaddr_in()
        if inet_pton(AF_INET, host, &v4.sin_addr) == 1 {
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = port.bigEndian
            let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            let rc = withUnsafePointer(to: &v4) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard s >= 0, rc == 0 else {
                let why = String(cString: strerror(errno))
                if s >= 0 { close(s) }
                throw .transport("cannot connect to \(hostHeader): \(why)", call: call)
            }
            connected(s)
            return
        }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            throw .transport("cannot resolve \(host): \(String(cString: gai_strerror(rc)))", call: call)
        }
        defer { freeaddrinfo(list) }
        var lastErrno: Int32 = 0
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let ai = entry {
            let s = socket(ai.pointee.ai_family, ai.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), ai.pointee.ai_protocol)
            if s >= 0 {
                if Glibc.connect(s, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0 {
                    connected(s)
                    return
                }
                lastErrno = errno
                close(s)
            }
            entry = ai.pointee.ai_next
        }
        throw .transport("cannot connect to \(hostHeader): \(String(cString: strerror(lastErrno)))", call: call)
    }

    private func connected(_ s: Int32) {
        var one: Int32 = 1
        setsockopt(s, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        fd = s
        reader.reset()
    }

    private func sendAll(_ parts: [[UInt8]], call: String) throws(RuntimeAPIError) {
        // One writev for the whole request (and the pipelined next): one segment on the wire.
        var remaining = parts.reduce(0) { $0 + $1.count }
        var skip = 0
        while remaining > 0 {
            let written: Int = withIOVecs(parts, skip: skip) { iov, count in writev(fd, iov, Int32(count)) }
            if written < 0 {
                if errno == EINTR { continue }
                let why = String(cString: strerror(errno))
                dropConnection()
                throw .transport(why, call: call)
            }
            skip += written
            remaining -= written
        }
    }

    private func readResponse(call: String) throws(RuntimeAPIError) -> Int {
        do {
            return try reader.read(fd: fd)
        } catch {
            dropConnection()
            switch error {
            case .closed: throw .transport("connection closed by the Runtime API", call: call)
            case .io(let e): throw .transport(String(cString: strerror(e)), call: call)
            case .malformed(let why): throw .malformedResponse(why, call: call)
            }
        }
    }

    private func dropConnection() {
        if fd >= 0 { close(fd) }
        fd = -1
        nextInFlight = false
    }
}

private func withIOVecs<R>(_ parts: [[UInt8]], skip: Int, _ body: (UnsafePointer<iovec>, Int) -> R) -> R {
    // The arrays stay alive for the call; their storage addresses are stable while we hold them.
    var iov: [iovec] = []
    iov.reserveCapacity(parts.count)
    var toSkip = skip
    return withExtendedLifetime(parts) {
        for part in parts {
            if toSkip >= part.count {
                toSkip -= part.count
                continue
            }
            part.withUnsafeBytes { raw in
                iov.append(iovec(iov_base: UnsafeMutableRawPointer(mutating: raw.baseAddress! + toSkip),
                                 iov_len: raw.count - toSkip))
            }
            toSkip = 0
        }
        return iov.withUnsafeBufferPointer { body($0.baseAddress!, $0.count) }
    }
}

extension String {
    fileprivate func trimmingBrackets() -> String {
        hasPrefix("[") && hasSuffix("]") ? String(dropFirst().dropLast()) : self
    }
}
