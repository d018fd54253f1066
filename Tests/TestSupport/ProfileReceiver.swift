import JSON
import LocalHosting
import LambdaRuntime

/// A stand-in profile service on loopback: records every request, answers what the test says.
public final class ProfileReceiver: @unchecked Sendable {
    private let endpoint: ScriptedEndpoint

    /// Starts answering 200.
    public init() throws { endpoint = try ScriptedEndpoint(body: #"{"ok":true}"#) }

    /// The URL to configure as `PROFILE_SERVICE_URL`.
    public var url: String { endpoint.server.baseURL + "/profiles" }
    /// The status answered.
    public var status: Int {
        get { endpoint.status }
        set { endpoint.status = newValue }
    }
    /// Delay before answering, ms.
    public var delayMs: UInt32 {
        get { endpoint.delayMs }
        set { endpoint.delayMs = newValue }
    }
    /// Requests so far.
    public var received: [LoopbackHTTPServer.Request] { endpoint.received }
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
