import CCurl

#if canImport(Glibc)
    import Glibc
#endif

/// A transport failure reported by libcurl (no HTTP status was received).
public struct CurlError: Error, CustomStringConvertible, Sendable {
    /// The `CURLcode`.
    public let code: Int32
    /// libcurl's text for the code.
    public let message: String

    public var description: String { "curl error \(code): \(message)" }

    /// Whether the failure was the configured timeout.
    public var isTimeout: Bool { code == Int32(CURLE_OPERATION_TIMEDOUT.rawValue) }
}

/// One response as libcurl delivered it.
public struct HTTPResponse: Sendable {
    /// The HTTP status code.
    public var status: Int
    /// Header names lower-cased, values trimmed, in arrival order.
    public var headers: [(name: String, value: String)]
    /// The body bytes.
    public var body: [UInt8]

    /// The first header named `name` (lower-case).
    public func header(_ name: String) -> String? { headers.first { $0.name == name }?.value }
}

/// What libcurl's callbacks write into; reused across requests on one handle.
final class CurlResponseSink {
    var body: [UInt8] = []
    var headers: [(name: String, value: String)] = []
    /// When set, only headers whose lower-cased name starts with these bytes are kept.
    var headerPrefix: [UInt8]?
    var maxBody = Int.max
    var overflowed = false

    func reset() {
        body = []
        headers.removeAll(keepingCapacity: true)
        overflowed = false
    }

    func appendHeader(_ line: UnsafeRawBufferPointer) {
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
            // A status line starts a new header block (redirects, 100 Continue): keep only the last block.
            if line.starts(with: "HTTP/".utf8) { headers.removeAll(keepingCapacity: true) }
            return
        }
        if let prefix = headerPrefix {
            guard colon >= prefix.count else { return }
            for i in 0..<prefix.count where Self.lower(line[i]) != prefix[i] { return }
        }
        var name = [UInt8](line[0..<colon])
        for i in name.indices { name[i] = Self.lower(name[i]) }
        var start = colon + 1
        var end = line.count
        while start < end, line[start] == 0x20 || line[start] == 0x09 { start += 1 }
        while end > start, line[end - 1] == 0x0A || line[end - 1] == 0x0D || line[end - 1] == 0x20 { end -= 1 }
        headers.append(
            (
                String(decoding: name, as: UTF8.self),
                String(decoding: UnsafeRawBufferPointer(rebasing: line[start..<end]), as: UTF8.self)
            ))
    }

    @inline(__always) static func lower(_ c: UInt8) -> UInt8 { c >= 0x41 && c <= 0x5A ? c | 0x20 : c }
}

private let writeBody: ccurl_data_callback = { ptr, size, count, userdata in
    guard let userdata, let ptr else { return 0 }
    let sink = Unmanaged<CurlResponseSink>.fromOpaque(userdata).takeUnretainedValue()
    let n = size * count
    if sink.body.count + n > sink.maxBody {
        sink.overflowed = true
        return 0
    }
    sink.body.append(contentsOf: UnsafeRawBufferPointer(start: ptr, count: n))
    return n
}

private let writeHeader: ccurl_data_callback = { ptr, size, count, userdata in
    guard let userdata, let ptr else { return 0 }
    let sink = Unmanaged<CurlResponseSink>.fromOpaque(userdata).takeUnretainedValue()
    let n = size * count
    sink.appendHeader(UnsafeRawBufferPointer(start: ptr, count: n))
    return n
}

/// A libcurl easy handle kept for the life of the process, so its connection is reused (keep-alive): the
/// Runtime API loop's connection, and the one under each `HTTPClient`.
///
/// Not thread-safe: one handle serves one thread, which is how Lambda runs a process.
public final class CurlEasy {
    private let handle: UnsafeMutableRawPointer
    let sink = CurlResponseSink()

    /// Opens a handle with signals off (we ignore SIGPIPE once for the process instead of per request).
    public init() throws(CurlError) {
        let initCode = ccurl_global_init_once()
        guard initCode == CURLE_OK else {
            throw CurlError(code: Int32(initCode.rawValue), message: String(cString: curl_easy_strerror(initCode)))
        }
        guard let h = curl_easy_init() else { throw CurlError(code: -1, message: "curl_easy_init failed") }
        // HTTP and HTTPS only, redirects included: no URL we are handed can make libcurl speak file://,
        // gopher:// or any other of its protocols. A libcurl that cannot be restricted is not used.
        let restricted = ccurl_restrict_protocols(h)
        guard restricted == CURLE_OK else {
            curl_easy_cleanup(h)
            throw CurlError(code: Int32(restricted.rawValue), message: "cannot restrict libcurl to HTTP and HTTPS")
        }
        handle = h
        ccurl_setopt_long(h, CURLOPT_NOSIGNAL, 1)
        ccurl_setopt_long(h, CURLOPT_TCP_NODELAY, 1)
        ccurl_setopt_str(h, CURLOPT_NOPROXY, "*")
        if let bundle = CABundle.process { ccurl_setopt_str(h, CURLOPT_CAINFO, bundle) }
        let me = Unmanaged.passUnretained(sink).toOpaque()
        ccurl_setopt_callback(h, CURLOPT_WRITEFUNCTION, writeBody)
        ccurl_setopt_ptr(h, CURLOPT_WRITEDATA, me)
        ccurl_setopt_callback(h, CURLOPT_HEADERFUNCTION, writeHeader)
        ccurl_setopt_ptr(h, CURLOPT_HEADERDATA, me)
    }

    deinit { curl_easy_cleanup(handle) }

    /// Signs the following requests with AWS Signature V4 (libcurl computes it), or stops signing (nil).
    ///
    /// - Parameters:
    ///   - provider: `aws:amz:<region>:<service>`; the region and service cannot come from the host name
    ///     when the endpoint is overridden (loopback, VPC endpoints), so they are always given.
    ///   - credentials: `<access key id>:<secret access key>`.
    public func signAWS(provider: String?, credentials: String?) throws(CurlError) {
        let code = ccurl_set_aws_sigv4(handle, provider, credentials)
        guard code == CURLE_OK else {
            throw CurlError(code: Int32(code.rawValue), message: "this libcurl cannot sign AWS requests (needs 7.75 or later)")
        }
    }

    /// Sends one request and waits for the whole response.
    ///
    /// - Parameters:
    ///   - headers: lines built once (see `HTTPHeaderList`), or nil for libcurl's defaults.
    ///   - body: bytes to POST (or to send with `method`); nil sends none.
    ///   - timeoutMs: total time limit; 0 means none (the Runtime API's `next` must never time out).
    ///   - keepHeaders: a lower-case name prefix; only matching response headers are kept (saves work on hot paths).
    public func perform(
        method: String = "GET", url: String, headers: HTTPHeaderList? = nil,
        body: [UInt8]? = nil, timeoutMs: Int = 0, connectTimeoutMs: Int = 0,
        maxResponseBytes: Int = Int.max, keepHeaders: [UInt8]? = nil,
        verifyTLS: Bool = true
    ) throws(CurlError) -> HTTPResponse {
        try withExtendedLifetime(headers) { () throws(CurlError) -> HTTPResponse in
            try perform(
                method: method, url: url, headerList: headers?.pointer, body: body, timeoutMs: timeoutMs,
                connectTimeoutMs: connectTimeoutMs, maxResponseBytes: maxResponseBytes,
                keepHeaders: keepHeaders, verifyTLS: verifyTLS)
        }
    }

    /// `perform` with a bare libcurl list, which the caller keeps alive for the call.
    func perform(
        method: String, url: String, headerList headers: UnsafeMutablePointer<curl_slist>?,
        body: [UInt8]?, timeoutMs: Int, connectTimeoutMs: Int, maxResponseBytes: Int,
        keepHeaders: [UInt8]? = nil, verifyTLS: Bool = true
    ) throws(CurlError) -> HTTPResponse {
        sink.reset()
        sink.headerPrefix = keepHeaders
        sink.maxBody = maxResponseBytes
        ccurl_setopt_str(handle, CURLOPT_URL, url)
        ccurl_setopt_slist(handle, CURLOPT_HTTPHEADER, headers)
        ccurl_setopt_long(handle, CURLOPT_TIMEOUT_MS, timeoutMs)
        ccurl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, connectTimeoutMs)
        ccurl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, verifyTLS ? 1 : 0)
        ccurl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, verifyTLS ? 2 : 0)
        let code: CURLcode
        if let body {
            if method == "POST" {
                ccurl_setopt_ptr(handle, CURLOPT_CUSTOMREQUEST, nil)
            } else {
                ccurl_setopt_str(handle, CURLOPT_CUSTOMREQUEST, method)
            }
            ccurl_setopt_long(handle, CURLOPT_POST, 1)
            ccurl_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
            code = body.withUnsafeBytes { bytes in
                // An empty body still needs a non-null pointer, or libcurl reads from the read callback.
                ccurl_setopt_ptr(handle, CURLOPT_POSTFIELDS, bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1))
                return curl_easy_perform(handle)
            }
            ccurl_setopt_ptr(handle, CURLOPT_POSTFIELDS, nil)
        } else {
            if method == "GET" {
                ccurl_setopt_ptr(handle, CURLOPT_CUSTOMREQUEST, nil)
            } else {
                ccurl_setopt_str(handle, CURLOPT_CUSTOMREQUEST, method)
            }
            ccurl_setopt_long(handle, CURLOPT_HTTPGET, 1)
            code = curl_easy_perform(handle)
        }
        guard code == CURLE_OK else {
            let message =
                sink.overflowed
                ? "response larger than \(maxResponseBytes) bytes" : String(cString: curl_easy_strerror(code))
            throw CurlError(code: Int32(code.rawValue), message: message)
        }
        var status = 0
        ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        let response = HTTPResponse(status: status, headers: sink.headers, body: sink.body)
        sink.body = []
        return response
    }
}
