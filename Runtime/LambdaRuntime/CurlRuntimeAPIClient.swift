import HTTPClient

/// The Runtime API client that ships: HTTPClient's libcurl handle on one keep-alive connection.
///
/// One handle for the life of the process (`CURLOPT_NOSIGNAL`, `TCP_NODELAY`, no proxy), the `next` URL
/// and the header lists built once, headers captured by a callback into storage that is reused, and no
/// `Expect: 100-continue`. Only the request id changes from one invocation to the next.
public final class CurlRuntimeAPIClient: RuntimeAPIClient {
    private let curl: CurlEasy
    private let base: String
    private let nextURL: String
    private let initErrorURL: String
    private let invocationPrefix: String
    /// `Expect:` (off), kept for every POST of a result.
    private let postHeaders: HTTPHeaderList
    /// Headers of `next` answers that matter: every `Lambda-Runtime-*`.
    private static let keptHeaderPrefix = Array("lambda-runtime-".utf8)
    /// Events are at most 6 MB (synchronous) on Lambda; anything far larger is not the Runtime API.
    private static let maxEventBytes = 32 << 20

    /// Prepares a client for `endpoint` (`host:port`, as in `AWS_LAMBDA_RUNTIME_API`); connects on first use.
    public init(endpoint: String) throws(RuntimeAPIError) {
        guard !endpoint.isEmpty, !endpoint.contains("/"), !endpoint.contains(" ") else {
            throw .transport("AWS_LAMBDA_RUNTIME_API must be host:port", call: "init")
        }
        do {
            curl = try CurlEasy()
        } catch {
            throw .transport(error.description, call: "init")
        }
        base = "http://\(endpoint)/2018-06-01/runtime/"
        nextURL = base + "invocation/next"
        initErrorURL = base + "init/error"
        invocationPrefix = base + "invocation/"
        postHeaders = HTTPHeaderList(["Expect:", "Content-Type: application/octet-stream"])
    }

    public func next() throws(RuntimeAPIError) -> Invocation {
        let response: HTTPResponse
        do {
            response = try curl.perform(
                url: nextURL, maxResponseBytes: Self.maxEventBytes,
                keepHeaders: Self.keptHeaderPrefix)
        } catch {
            throw .transport(error.description, call: "next")
        }
        // Lambda answers 200; some local servers answer 202: any 2xx is an event.
        guard (200..<300).contains(response.status) else { throw .unexpectedStatus(response.status, call: "next") }
        var inv = Invocation(event: response.body)
        for (name, value) in response.headers {
            switch name {
            case "lambda-runtime-aws-request-id": inv.requestId = value
            case "lambda-runtime-deadline-ms": inv.deadlineMs = Self.deadline(value)
            case "lambda-runtime-invoked-function-arn": inv.invokedFunctionArn = value
            case "lambda-runtime-trace-id": inv.traceId = value
            case "lambda-runtime-client-context": inv.clientContext = value
            case "lambda-runtime-cognito-identity": inv.cognitoIdentity = value
            default: break
            }
        }
        guard !inv.requestId.isEmpty else { throw .missingRequestId }
        // The id becomes part of the URLs we post to: anything but Lambda's id alphabet could aim the
        // answer elsewhere (`../init/error`, a query). Refuse before the handler runs.
        guard Self.isValidRequestId(inv.requestId) else { throw .invalidRequestId }
        return inv
    }

    /// Letters, digits, `-` and `_`, at most 128 bytes (Lambda's ids are UUIDs).
    public static func isValidRequestId(_ id: String) -> Bool {
        let u = id.utf8
        return !u.isEmpty && u.count <= 128
            && u.allSatisfy { c in
                (c >= 0x30 && c <= 0x39) || (c | 0x20 >= 0x61 && c | 0x20 <= 0x7A) || c == 0x2D || c == 0x5F
            }
    }

    /// Epoch milliseconds, kept within a range where arithmetic on it cannot overflow.
    public static func deadline(_ text: String) -> Int64 {
        guard let v = Int64(text) else { return 0 }
        return min(max(v, 0), 1 << 50)
    }

    public func postResponse(requestId: String, body: [UInt8]) throws(RuntimeAPIError) -> Int {
        try post(url: invocationURL(requestId, "/response"), headers: postHeaders, body: body, call: "response")
    }

    public func postError(requestId: String, error: LambdaErrorObject) throws(RuntimeAPIError) -> Int {
        try postError(url: invocationURL(requestId, "/error"), error, call: "error")
    }

    public func postInitError(_ error: LambdaErrorObject) throws(RuntimeAPIError) -> Int {
        try postError(url: initErrorURL, error, call: "init/error")
    }

    /// `…/invocation/<id><suffix>`, built in one buffer.
    private func invocationURL(_ requestId: String, _ suffix: String) -> String {
        var url = invocationPrefix
        url.reserveCapacity(invocationPrefix.utf8.count + requestId.utf8.count + 9)
        url += requestId
        url += suffix
        return url
    }

    /// Errors are rare: their header list (with the error type) is built per report.
    private func postError(url: String, _ error: LambdaErrorObject, call: String) throws(RuntimeAPIError) -> Int {
        let list = HTTPHeaderList([
            "Expect:", "Content-Type: application/json",
            "Lambda-Runtime-Function-Error-Type: " + Self.headerSafe(error.errorType)
        ])
        return try post(url: url, headers: list, body: Array(error.json.utf8), call: call)
    }

    private func post(url: String, headers: HTTPHeaderList, body: [UInt8], call: String)
        throws(RuntimeAPIError) -> Int
    {
        let response: HTTPResponse
        do {
            response = try curl.perform(
                method: "POST", url: url, headers: headers, body: body,
                maxResponseBytes: 1 << 20, keepHeaders: Self.keptHeaderPrefix)
        } catch {
            throw .transport(error.description, call: call)
        }
        if response.status >= 500 || response.status < 200 { throw .unexpectedStatus(response.status, call: call) }
        return response.status
    }

    /// An error type goes into a header line: no CR, LF or other control bytes may reach it.
    static func headerSafe(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }.prefix(256)))
    }
}
