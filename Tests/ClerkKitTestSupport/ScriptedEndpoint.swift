import JSON
import LambdaRuntime
import LocalHosting

#if canImport(Glibc)
    import Glibc
#endif

/// An HTTP endpoint on loopback whose answer the test scripts: status, body, delay; every request is kept.
/// The JWKS endpoint and the profile-service stand-in are both this.
public final class ScriptedEndpoint: @unchecked Sendable {
    private let lock = ConditionLock()
    private var _status = 200
    private var _body: String
    private var _delayMs: UInt32 = 0
    private var _received: [LoopbackHTTPServer.Request] = []
    /// The server.
    public private(set) var server: LoopbackHTTPServer!

    /// Starts answering 200 with `body`.
    public init(body: String) throws {
        _body = body
        server = try LoopbackHTTPServer { [weak self] request in
            guard let self else { return nil }
            let (status, body, delay) = self.lock.withLock { () -> (Int, String, UInt32) in
                self._received.append(request)
                return (self._status, self._body, self._delayMs)
            }
            if delay > 0 { usleep(delay * 1000) }
            return .json(status, body)
        }
    }

    /// The status answered.
    public var status: Int {
        get { lock.withLock { _status } }
        set { lock.withLock { _status = newValue } }
    }
    /// The body answered.
    public var body: String {
        get { lock.withLock { _body } }
        set { lock.withLock { _body = newValue } }
    }
    /// Delay before answering, ms.
    public var delayMs: UInt32 {
        get { lock.withLock { _delayMs } }
        set { lock.withLock { _delayMs = newValue } }
    }
    /// Requests so far.
    public var received: [LoopbackHTTPServer.Request] { lock.withLock { _received } }
}
