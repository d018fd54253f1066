import CCurl

#if canImport(Glibc)
    import Glibc
#endif

/// A small blocking HTTP client over one reused libcurl handle, for the parts that call out
/// (JWKS, profile service, Clerk's API, AWS). TLS verification is always on for `https`.
///
/// Every request carries the invocation's X-Ray header (`X-Amzn-Trace-Id`, from `_X_AMZN_TRACE_ID`, which
/// the Lambda host keeps current), so a call is traceable to the invocation that made it.
public final class HTTPClient {
    private let curl: CurlEasy

    /// Opens the underlying handle.
    public init() throws(CurlError) { curl = try CurlEasy() }

    /// Sends a request. Timeouts are in milliseconds; `maxResponseBytes` bounds what a peer can make us hold.
    public func send(
        method: String, url: String, headers: [String] = [], body: [UInt8]? = nil,
        timeoutMs: Int, connectTimeoutMs: Int, maxResponseBytes: Int = 1 << 20
    ) throws(CurlError)
        -> HTTPResponse
    {
        let list = HTTPHeaderList.build(headers + Self.traceHeader(unless: headers) + (body == nil ? [] : ["Expect:"]))
        defer { if let list { curl_slist_free_all(list) } }
        return try curl.perform(
            method: method, url: url, headerList: list, body: body, timeoutMs: timeoutMs,
            connectTimeoutMs: connectTimeoutMs, maxResponseBytes: maxResponseBytes)
    }

    /// Sends a request signed with AWS Signature V4 by libcurl. `provider` is `aws:amz:<region>:<service>`,
    /// `credentials` `<key id>:<secret key>`; a session token goes in `headers` as `x-amz-security-token`
    /// (libcurl signs every header it is given). No trace header: AWS's SDKs leave it out of the signature,
    /// and these calls happen at init, outside any invocation.
    public func sendSigned(
        method: String, url: String, headers: [String], body: [UInt8], provider: String,
        credentials: String, timeoutMs: Int, connectTimeoutMs: Int,
        maxResponseBytes: Int = 1 << 20
    ) throws(CurlError) -> HTTPResponse {
        try curl.signAWS(provider: provider, credentials: credentials)
        defer { _ = try? curl.signAWS(provider: nil, credentials: nil) }
        // No `Expect:` here: libcurl would sign it as an empty header it then never sends, and AWS would refuse
        // the signature (the stand-in's botocore check found this). Bodies stay under 1 KiB, below the size
        // at which libcurl adds `Expect: 100-continue` by itself.
        precondition(body.count < 1024, "signed requests carry small JSON bodies")
        let list = HTTPHeaderList.build(headers)
        defer { if let list { curl_slist_free_all(list) } }
        return try curl.perform(
            method: method, url: url, headerList: list, body: body, timeoutMs: timeoutMs,
            connectTimeoutMs: connectTimeoutMs, maxResponseBytes: maxResponseBytes)
    }

    /// `X-Amzn-Trace-Id` from `_X_AMZN_TRACE_ID`, unless the caller set one or there is none.
    static func traceHeader(unless headers: [String]) -> [String] {
        guard let raw = getenv("_X_AMZN_TRACE_ID") else { return [] }
        let value = String(cString: raw)
        // A header value cannot carry a line break; X-Ray ids never do, but the variable is outside input.
        guard !value.isEmpty, !value.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) else { return [] }
        if headers.contains(where: { $0.lowercased().hasPrefix("x-amzn-trace-id:") }) { return [] }
        return ["X-Amzn-Trace-Id: " + value]
    }
}
