/// Why the Runtime API could not be used. Each of these ends the process: Lambda restarts it.
public enum RuntimeAPIError: Error, CustomStringConvertible {
    /// The connection failed or was lost.
    case transport(String, call: String)
    /// The Runtime API answered a status this call never expects (500 among them).
    case unexpectedStatus(Int, call: String)
    /// A `next` answer without `Lambda-Runtime-Aws-Request-Id`.
    case missingRequestId
    /// A request id outside Lambda's alphabet (it would be spliced into the result's URL).
    case invalidRequestId

    public var description: String {
        switch self {
        case .transport(let why, let call): "Runtime API \(call) failed: \(why)"
        case .unexpectedStatus(let s, let call): "Runtime API \(call) answered HTTP \(s)"
        case .missingRequestId: "Runtime API next answered without a request id"
        case .invalidRequestId: "Runtime API next answered with a request id outside letters, digits, - and _"
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

    /// Creates an invocation (hosts fill it from the `next` answer; tests build their own).
    public init(
        requestId: String = "", deadlineMs: Int64 = 0, invokedFunctionArn: String = "", traceId: String = "",
        clientContext: String? = nil, cognitoIdentity: String? = nil, event: [UInt8] = []
    ) {
        self.requestId = requestId
        self.deadlineMs = deadlineMs
        self.invokedFunctionArn = invokedFunctionArn
        self.traceId = traceId
        self.clientContext = clientContext
        self.cognitoIdentity = cognitoIdentity
        self.event = event
    }
}

/// The custom-runtime side of the Lambda Runtime API (2018-06-01), as the loop uses it.
///
/// A protocol so the loop is tested against an in-memory fake, as the official runtime's
/// `LambdaRuntimeClientProtocol` is; `CurlRuntimeAPIClient` is the one that ships.
public protocol RuntimeAPIClient: AnyObject {
    /// Waits for the next event (never times out: Lambda freezes the process between invocations).
    func next() throws(RuntimeAPIError) -> Invocation
    /// Posts a result; returns the status (202, or 400/403/413). Throws on a lost connection or a 5xx.
    func postResponse(requestId: String, body: [UInt8]) throws(RuntimeAPIError) -> Int
    /// Posts a handled failure; returns the status. Throws on a lost connection or a 5xx.
    func postError(requestId: String, error: LambdaErrorObject) throws(RuntimeAPIError) -> Int
    /// Reports a failed initialisation; the caller exits afterwards.
    func postInitError(_ error: LambdaErrorObject) throws(RuntimeAPIError) -> Int
}
