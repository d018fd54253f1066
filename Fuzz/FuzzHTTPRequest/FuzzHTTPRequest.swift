import FuzzSupport
import LocalHosting

/// The body limit the reader is given: small, so the fuzzer reaches it.
let limit = 1 << 10

/// libFuzzer entry: the local HTTP/1.1 request reader (`serve`, the emulator), fed as one peer's bytes;
/// reads requests until the peer is done or a request is refused. Properties: no body is over the limit, and
/// each request read, written back out as a request (`written`), reads back as the same request.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPRequest(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    var reader = HTTPRequestReader(bytes: Array(UnsafeBufferPointer(start: data, count: size)), maxBodyBytes: limit)
    for _ in 0..<64 {
        switch reader.next() {
        case .request(let r):
            if r.body.count > limit { fatalError("a body of \(r.body.count) bytes passed the limit of \(limit)") }
            var again = HTTPRequestReader(bytes: written(r), maxBodyBytes: limit)
            guard case .request(let back) = again.next() else { fatalError("a request read does not read back: \(describe(r))") }
            if !same(r, back) { fatalError("a request read back differently: \(describe(r)) became \(describe(back))") }
            guard case .closed = again.next() else { fatalError("one request written back read as more: \(describe(r))") }
        case .closed, .refused: return 0
        }
    }
    return 0
}

/// `request` as a peer would send it: the request line, the headers as read (a tab after the colon, which
/// the reader drops and which begins no grapheme with what follows), and the body framed as the headers say
/// (chunked when a `Transfer-Encoding` names it, else the `Content-Length` already matches the body).
func written(_ request: HTTPRequestReader.Request) -> [UInt8] {
    var out = Array("\(request.method) \(request.path) HTTP/1.1\r\n".utf8)
    for (name, value) in request.headers { out += Array("\(name):\t\(value)\r\n".utf8) }
    out += [13, 10]
    let chunked = request.headers.first { $0.0 == "transfer-encoding" }.map { $0.1.lowercased().contains("chunked") } ?? false
    if chunked {
        if !request.body.isEmpty { out += Array(String(request.body.count, radix: 16).utf8) + [13, 10] + request.body + [13, 10] }
        out += Array("0\r\n\r\n".utf8)
    } else {
        out += request.body
    }
    return out
}

func same(_ a: HTTPRequestReader.Request, _ b: HTTPRequestReader.Request) -> Bool {
    a.method == b.method && a.path == b.path && a.body == b.body && a.headers.count == b.headers.count
        && zip(a.headers, b.headers).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
}

func describe(_ r: HTTPRequestReader.Request) -> String {
    "\(r.method.debugDescription) \(r.path.debugDescription) \(r.headers.map { "\($0.0.debugDescription): \($0.1.debugDescription)" }) body \(r.body.count) bytes"
}

/// The process entry SwiftPM links for a testable executable (`main` is an alias of it): libFuzzer's
/// driver with the callback above.
@_cdecl("FuzzHTTPRequest_main")
public func fuzzhttprequestMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzHTTPRequest(data, size) }
}
