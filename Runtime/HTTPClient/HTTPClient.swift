import CCurl

/// A small blocking HTTP client over one reused libcurl handle, for the parts that call out
/// (JWKS, profile service). TLS verification is always on for `https`.
public final class HTTPClient {
    private let curl: CurlEasy

    /// Opens the underlying handle.
    public init() throws(CurlError) { curl = try CurlEasy() }

    /// Sends a request. Timeouts are in milliseconds; `maxResponseBytes` bounds what a peer can make us hold.
    public func send(method: String, url: String, headers: [String] = [], body: [UInt8]? = nil,
                     timeoutMs: Int, connectTimeoutMs: Int, maxResponseBytes: Int = 1 << 20) throws(CurlError)
        -> HTTPResponse
    {
        let list = CurlEasy.headerList(headers + (body == nil ? [] : ["Expect:"]))
        defer { if let list { curl_slist_free_all(list) } }
        return try curl.perform(method: method, url: url, headers: list, body: body, timeoutMs: timeoutMs,
                                connectTimeoutMs: connectTimeoutMs, maxResponseBytes: maxResponseBytes)
    }
}
