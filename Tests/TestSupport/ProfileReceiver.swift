import JSON
import LambdaRuntime
import LocalHosting

#if canImport(Glibc)
    import Glibc
#endif

/// A stand-in profile service on loopback: records every request, answers what the test says, after a
/// delay that may differ per call (a slow first call, a fast second one: the overlapping-delivery race).
public final class ProfileReceiver: @unchecked Sendable {
    private let lock = ConditionLock()
    private var _status = 200
    private var _delayMs: UInt32 = 0
    private var _schedule: [UInt32] = []
    private var _received: [LoopbackHTTPServer.Request] = []
    private var _answered: [LoopbackHTTPServer.Request] = []
    private var _toHold = 0
    private var _holding = false
    private var server: LoopbackHTTPServer!

    /// Starts answering 200.
    public init() throws {
        server = try LoopbackHTTPServer { [weak self] request in
            guard let self else { return nil }
            let (status, delay, held) = self.lock.withLock { () -> (Int, UInt32, Bool) in
                self._received.append(request)
                let delay = self._schedule.isEmpty ? self._delayMs : self._schedule.removeFirst()
                let held = self._toHold > 0
                if held { self._toHold -= 1 }
                return (self._status, delay, held)
            }
            self.lock.broadcast()
            if held { _ = self.lock.wait { !self._holding } }
            if delay > 0 { usleep(delay * 1000) }
            // What a real service keeps is what it finished storing last, not what arrived last.
            self.lock.withLock { self._answered.append(request) }
            self.lock.broadcast()
            return .json(status, #"{"ok":true}"#)
        }
    }

    /// The URL to configure as `PROFILE_SERVICE_URL`.
    public var url: String { server.baseURL + "/profiles" }
    /// The status answered.
    public var status: Int {
        get { lock.withLock { _status } }
        set { lock.withLock { _status = newValue } }
    }
    /// Delay before answering, ms (when no per-call delay is scheduled).
    public var delayMs: UInt32 {
        get { lock.withLock { _delayMs } }
        set { lock.withLock { _delayMs = newValue } }
    }
    /// Delays for the next calls, one per call in arrival order (then `delayMs`).
    public var schedule: [UInt32] {
        get { lock.withLock { _schedule } }
        set { lock.withLock { _schedule = newValue } }
    }
    /// Requests so far, in arrival order.
    public var received: [LoopbackHTTPServer.Request] { lock.withLock { _received } }
    /// Requests answered so far, in the order the answers went out (the last one is what the service keeps).
    public var answered: [LoopbackHTTPServer.Request] { lock.withLock { _answered } }

    /// Holds the next `count` requests unanswered (the service is busy storing them) until `releaseHeld()`;
    /// the requests after them are answered as usual meanwhile.
    public func hold(next count: Int) {
        lock.withLock {
            _toHold = count
            _holding = true
        }
    }

    /// Answers the requests `hold(next:)` held.
    public func releaseHeld() {
        lock.withLock { _holding = false }
        lock.broadcast()
    }

    /// Waits until `count` requests have arrived (false after `timeoutMs`).
    public func waitForRequests(_ count: Int, timeoutMs: Int64 = 30_000) -> Bool {
        lock.wait(timeoutMs: timeoutMs) { self._received.count >= count }
    }
}

/// The RabbitMQ broker the tests use: `RABBITMQ_URL`, which `make test` always provides (a private node).
public enum TestBroker {
    /// `RABBITMQ_URL`, or a fatal error naming the command to run.
    public static var url: String {
        guard let url = Environment.process()["RABBITMQ_URL"] else {
            fatalError("RABBITMQ_URL is not set: run the tests with `make test`, which starts a private RabbitMQ node")
        }
        return url
    }
}
