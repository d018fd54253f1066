import JSON
import LambdaRuntime

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
    public var port: Int { server.port }
    /// `host:port`, the value for `AWS_LAMBDA_RUNTIME_API`.
    public var endpoint: String { "127.0.0.1:\(port)" }

    private let lock = ConditionLock()
    private var server: LoopbackHTTPServer!
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

    /// Send events with `Transfer-Encoding: chunked` (as servers do past a few KiB) instead of `Content-Length`.
    public var chunkedEvents: Bool {
        get { lock.withLock { _chunkedEvents } }
        set { lock.withLock { _chunkedEvents = newValue } }
    }
    private var _chunkedEvents = false
    /// Milliseconds to hold each `next` answer once its event is ready (a slow Runtime API).
    public var nextDelayMs: Int {
        get { lock.withLock { _nextDelayMs } }
        set { lock.withLock { _nextDelayMs = newValue } }
    }
    private var _nextDelayMs = 0
    /// How many `GET next` requests arrived (counted on arrival, before any event is ready).
    public var nextRequests: Int { lock.withLock { _nextRequests } }
    private var _nextRequests = 0
    /// The headers of the last result posted (names lower-cased).
    public var lastResultHeaders: [(String, String)] { lock.withLock { _lastResultHeaders } }
    private var _lastResultHeaders: [(String, String)] = []

    /// Bodies posted to `/init/error`, with their error type header.
    public var initErrors: [(errorType: String?, body: [UInt8])] { lock.withLock { _initErrors } }
    private var _initErrors: [(errorType: String?, body: [UInt8])] = []
    /// How many results (responses and errors) arrived.
    public var completed: Int { lock.withLock { _completed } }
    private var _completed: Int = 0
    /// How many error results arrived.
    public var errorCount: Int { lock.withLock { _errorCount } }
    private var _errorCount: Int = 0
    /// TCP connections accepted.
    public var connectionCount: Int { server.connectionCount }
    /// Monotonic ns of the first `next` and of the last result.
    public var firstNextNs: UInt64 { lock.withLock { _firstNextNs } }
    private var _firstNextNs: UInt64 = 0
    public var lastResultNs: UInt64 { lock.withLock { _lastResultNs } }
    private var _lastResultNs: UInt64 = 0
    /// Wall-clock ns (epoch) of the first `next`: exec-to-first-next is measured from it.
    public var firstNextWallNs: Int64 { lock.withLock { _firstNextWallNs } }
    private var _firstNextWallNs: Int64 = 0

    /// Binds `127.0.0.1:port` (0 picks a free port) and starts accepting.
    public init(port requested: Int = 0) throws {
        // Weak: a connection thread may outlive this object; its requests then just close.
        server = try LoopbackHTTPServer(port: requested) { [weak self] request in self?.handle(request) }
    }

    deinit { stop() }

    /// Queues an event; returns its request id.
    @discardableResult
    public func enqueue(
        _ body: [UInt8], deadlineMs: Int64? = nil, traceId: String? = nil,
        clientContext: String? = nil, cognitoIdentity: String? = nil
    ) -> String {
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
    public func invoke(
        _ body: [UInt8], timeoutMs: Int64 = 10_000, deadlineMs: Int64? = nil,
        traceId: String? = nil
    ) -> Outcome? {
        outcome(of: enqueue(body, deadlineMs: deadlineMs, traceId: traceId), timeoutMs: timeoutMs)
    }

    /// Waits until `count` results have arrived; returns whether they did in time.
    public func waitForCompleted(_ count: Int, timeoutMs: Int64) -> Bool {
        lock.wait(timeoutMs: timeoutMs) { _completed >= count }
    }

    /// Waits until an init error has been posted.
    public func waitForInitError(timeoutMs: Int64) -> Bool {
        lock.wait(timeoutMs: timeoutMs) { !_initErrors.isEmpty }
    }

    /// Closes the listener and every connection: a runtime waiting on `next` sees its connection lost.
    public func stop() {
        let first: Bool = lock.withLock {
            defer { stopped = true }
            return !stopped
        }
        lock.broadcast()
        if first { server?.stop() }
    }

    private func handle(_ request: LoopbackHTTPServer.Request) -> LoopbackHTTPServer.Response? {
        if request.method == "GET" && request.path == "/2018-06-01/runtime/invocation/next" {
            lock.withLock { _nextRequests += 1 }
            lock.broadcast()
            return nextEvent()
        }
        if request.method == "POST" && request.path == "/2018-06-01/runtime/init/error" {
            lock.withLock { _initErrors.append((request.header("lambda-runtime-function-error-type"), request.body)) }
            lock.broadcast()
            return Self.accepted
        }
        if request.method == "POST", request.path.hasPrefix("/2018-06-01/runtime/invocation/") {
            return result(request)
        }
        return .json(404, "")
    }

    private func nextEvent() -> LoopbackHTTPServer.Response? {
        var event: Event?
        _ = lock.wait {
            if stopped { return true }
            if !pending.isEmpty {
                event = pending.removeFirst()
            } else if let r = repeating, r.remaining > 0 {
                sequence += 1
                repeating = (r.body, r.remaining - 1)
                event = Event(
                    requestId: "req-\(sequence)", body: r.body, deadlineMs: Clock.nowMs() + 60_000,
                    traceId: "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1",
                    invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:bench")
            } else {
                return false
            }
            if _firstNextNs == 0 {
                _firstNextNs = Clock.monotonicNs()
                var ts = timespec()
                clock_gettime(CLOCK_REALTIME, &ts)
                _firstNextWallNs = Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
            }
            if let event { outstanding.insert(event.requestId) }
            return true
        }
        guard let event else { return nil }
        let (delay, chunked) = lock.withLock { (_nextDelayMs, _chunkedEvents) }
        if delay > 0 { usleep(UInt32(delay) * 1000) }
        var headers: [(String, String)] = [
            ("Content-Type", "application/json"), ("Lambda-Runtime-Aws-Request-Id", event.requestId),
            ("Lambda-Runtime-Deadline-Ms", String(event.deadlineMs)),
            ("Lambda-Runtime-Invoked-Function-Arn", event.invokedFunctionArn), ("Lambda-Runtime-Trace-Id", event.traceId)
        ]
        if let c = event.clientContext { headers.append(("Lambda-Runtime-Client-Context", c)) }
        if let c = event.cognitoIdentity { headers.append(("Lambda-Runtime-Cognito-Identity", c)) }
        return LoopbackHTTPServer.Response(status: 200, headers: headers, body: event.body, chunked: chunked)
    }

    private func result(_ request: LoopbackHTTPServer.Request) -> LoopbackHTTPServer.Response {
        let rest = request.path.dropFirst("/2018-06-01/runtime/invocation/".count)
        guard let slash = rest.lastIndex(of: "/") else { return .json(404, "") }
        let id = String(rest[..<slash])
        let kind = rest[rest.index(after: slash)...]
        guard kind == "response" || kind == "error" else { return .json(404, "") }
        let isError = kind == "error"
        let status: Int = lock.withLock {
            _lastResultHeaders = request.headers
            guard outstanding.contains(id) else { return 403 }
            if !isError && request.body.count > maxResponseBytes { return 413 }
            if !isError, let forced = _responseStatus {
                if forced == 413 { return 413 }  // Lambda keeps the id open after a 413
                outstanding.remove(id)
                return forced
            }
            outstanding.remove(id)
            _completed += 1
            if isError { _errorCount += 1 }
            _lastResultNs = Clock.monotonicNs()
            if recordOutcomes {
                outcomes[id] = Outcome(
                    isError: isError, body: request.body,
                    errorType: request.header("lambda-runtime-function-error-type"))
            }
            return 202
        }
        lock.broadcast()
        switch status {
        case 202: return Self.accepted
        case 403: return .json(403, #"{"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}"#)
        case 413: return .json(413, #"{"errorMessage":"Exceeded maximum allowed payload size","errorType":"RequestEntityTooLarge"}"#)
        default: return .json(status, #"{"errorType":"ServiceException"}"#)
        }
    }

    private static let accepted = LoopbackHTTPServer.Response.json(202, #"{"status":"OK"}"#)
}
