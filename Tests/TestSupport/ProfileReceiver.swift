import LambdaRuntime
#if canImport(Glibc)
import Glibc
#endif

/// A stand-in profile service on loopback: records every request, answers what the test says.
public final class ProfileReceiver: @unchecked Sendable {
    private let lock = ConditionLock()
    private var _status = 200
    private var _delayMs: UInt32 = 0
    private var _received: [LoopbackHTTPServer.Request] = []
    /// The server.
    public private(set) var server: LoopbackHTTPServer!

    /// Starts answering 200.
    public init() throws {
        server = try LoopbackHTTPServer { [weak self] request in
            guard let self else { return nil }
            let (status, delay) = self.lock.withLock { () -> (Int, UInt32) in
                self._received.append(request)
                return (self._status, self._delayMs)
            }
            if delay > 0 { usleep(delay * 1000) }
            return .json(status, #"{"ok":\#(status < 300)}"#)
        }
    }

    /// The URL to configure as `PROFILE_SERVICE_URL`.
    public var url: String { server.baseURL + "/profiles" }
    /// The status answered.
    public var status: Int {
        get { lock.withLock { _status } }
        set { lock.withLock { _status = newValue } }
    }
    /// Delay before answering, ms.
    public var delayMs: UInt32 {
        get { lock.withLock { _delayMs } }
        set { lock.withLock { _delayMs = newValue } }
    }
    /// Requests so far.
    public var received: [LoopbackHTTPServer.Request] { lock.withLock { _received } }
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
