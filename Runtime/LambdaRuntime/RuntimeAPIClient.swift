import CCurl

/// Why the Runtime API could not be used. Each of these ends the process: Lambda restarts it.
public enum RuntimeAPIError: Error, CustomStringConvertible {
    /// The connection failed or was lost (libcurl's error).
    case transport(CurlError, call: String)
    /// The Runtime API answered a status this call never expects (500 among them).
    case unexpectedStatus(Int, call: String)
    /// A `next` answer without `Lambda-Runtime-Aws-Request-Id`.
    case missingRequestId

    public var description: String {
        switch self {
        case .transport(let e, let call): "Runtime API \(call) failed: \(e.message)"
        case .unexpectedStatus(let s, let call): "Runtime API \(call) answered HTTP \(s)"
        case .missingRequestId: "Runtime API next answered without a request id"
        }
    }
}

/// One event handed out by `GET /runtime/invocation/next`, with every `Lambda-Runtime-*` header.
public struct Invocation: Sendable {
    /// `Lambda-Runtime-Aws-Request-Id`.
    public var requestId: String
    /// `Lambda-Runtime-Deadline-Ms`.
    public var deadlineMs: Int64
    /// `Lambda-Runtime-Invoked-Function-Arn`.
    public var invokedFunctionArn: String
    /// `Lambda-Runtime-Trace-Id`.
    public var traceId: String
    /// `Lambda-Runtime-Client-Context`.
    public var clientContext: String?
    /// `Lambda-Runtime-Cognito-Identity`.
    public var cognitoIdentity: String?
    /// The event bytes.
    public var event: [UInt8]
}

/// The custom-runtime side of the Lambda Runtime API (2018-06-01), over one keep-alive libcurl handle.
public final class RuntimeAPIClient {
    private let curl: CurlEasy
    private let base: String
    private let nextURL: String
    private let initErrorURL: String
    private let responseHeaders: UnsafeMutablePointer<curl_slist>?
    private static let lambdaRuntimePrefix = Array("lambda-runtime-".utf8)

    /// Connects lazily to `endpoint` (`host:port`, as in `AWS_LAMBDA_RUNTIME_API`).
    public init(endpoint: String) throws(CurlError) {
        curl = try CurlEasy()
        base = "http://\(endpoint)/2018-06-01/runtime/"
        nextURL = base + "invocation/next"
        initErrorURL = base + "init/error"
        // No `Expect: 100-continue` round trip for large responses.
        responseHeaders = CurlEasy.headerList(["Content-Type: application/json", "Expect:"])
    }

    deinit { curl_slist_free_all(responseHeaders) }

    /// Blocks until the next event arrives (no timeout: Lambda freezes the process meanwhile).
    public func next() throws(RuntimeAPIError) -> Invocation {
        let r: HTTPResponse
        do {
            r = try curl.perform(url: nextURL, keepHeaders: Self.lambdaRuntimePrefix)
        } catch {
            throw .transport(error, call: "next")
        }
        // Lambda answers 200; some emulators answer other 2xx codes.
        guard (200..<300).contains(r.status) else { throw .unexpectedStatus(r.status, call: "next") }
        var inv = Invocation(requestId: "", deadlineMs: 0, invokedFunctionArn: "", traceId: "", event: r.body)
        for (name, value) in r.headers {
            switch name {
            case "lambda-runtime-aws-request-id": inv.requestId = value
            case "lambda-runtime-deadline-ms": inv.deadlineMs = Int64(value) ?? 0
            case "lambda-runtime-invoked-function-arn": inv.invokedFunctionArn = value
            case "lambda-runtime-trace-id": inv.traceId = value
            case "lambda-runtime-client-context": inv.clientContext = value
            case "lambda-runtime-cognito-identity": inv.cognitoIdentity = value
            default: break
            }
        }
        guard !inv.requestId.isEmpty else { throw .missingRequestId }
        return inv
    }

    /// Posts a result; returns the Runtime API's status (202 accepted, 400, 403, 413).
    public func postResponse(requestId: String, body: [UInt8]) throws(RuntimeAPIError) -> Int {
        try post(url: base + "invocation/" + requestId + "/response", headers: responseHeaders, body: body,
                 call: "response")
    }

    /// Posts a handled failure with `Lambda-Runtime-Function-Error-Type`; returns the status.
    public func postError(requestId: String, error: LambdaErrorObject) throws(RuntimeAPIError) -> Int {
        try postErrorObject(url: base + "invocation/" + requestId + "/error", error: error, call: "error")
    }

    /// Reports a failed initialisation; the caller exits afterwards.
    public func postInitError(_ error: LambdaErrorObject) throws(RuntimeAPIError) -> Int {
        try postErrorObject(url: initErrorURL, error: error, call: "init/error")
    }

    private func postErrorObject(url: String, error: LambdaErrorObject, call: String) throws(RuntimeAPIError)
        -> Int
    {
        let list = CurlEasy.headerList([
            "Content-Type: application/json", "Expect:",
            "Lambda-Runtime-Function-Error-Type: " + error.errorType.filter { $0 != "\r" && $0 != "\n" },
        ])
        defer { curl_slist_free_all(list) }
        return try post(url: url, headers: list, body: Array(error.json.utf8), call: call)
    }

    private func post(url: String, headers: UnsafeMutablePointer<curl_slist>?, body: [UInt8], call: String)
        throws(RuntimeAPIError) -> Int
    {
        let r: HTTPResponse
        do {
            // No header name starts with NUL: keep none of the answer's headers.
            r = try curl.perform(method: "POST", url: url, headers: headers, body: body, keepHeaders: [0])
        } catch {
            throw .transport(error, call: call)
        }
        if r.status >= 500 { throw .unexpectedStatus(r.status, call: call) }
        return r.status
    }
}
