import HTTPClient
import LambdaRuntime
import LocalHosting
import RuntimeSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// Issue 10, item 10: what reaches the local tools from another process never crashes them, is bounded
/// before it is buffered, and a web page cannot drive them.
final class LocalServerHardeningTests: XCTestCase {
    func read(_ text: String, max: Int = 1 << 20) -> HTTPRequestReader.Outcome {
        var reader = HTTPRequestReader(bytes: Array(text.utf8), maxBodyBytes: max)
        return reader.next()
    }

    func status(_ outcome: HTTPRequestReader.Outcome) -> Int? {
        if case .refused(let status, _) = outcome { return status }
        return nil
    }

    func testLengthsAreBoundedNonNegativeNumbers() {
        XCTAssertEqual(status(read("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n")), 400)
        XCTAssertEqual(status(read("POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\nhello")), 400)
        XCTAssertEqual(status(read("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n")), 400)
        XCTAssertEqual(status(read("POST / HTTP/1.1\r\nContent-Length: 999999999\r\n\r\n")), 413)
        XCTAssertEqual(status(read("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n\r\n")), 400)
        XCTAssertEqual(status(read("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n7fffffffffffffff\r\n")), 413)
        XCTAssertEqual(status(read("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\n")), 400)
        XCTAssertEqual(status(read("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXY0\r\n\r\n")), 400)
        XCTAssertEqual(status(read("GARBAGE\r\n\r\n")), 400)
        guard case .request(let ok) = read("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n") else {
            return XCTFail("a well-formed chunked request is read")
        }
        XCTAssertEqual(ok.body, Array("abcde".utf8))
    }

    func testAnOversizedBodyIsRefusedBeforeItIsBuffered() throws {
        // The head announces 100 MB and nothing follows: the answer comes at once, not after a read.
        let server = try LoopbackHTTPServer(port: 0, maxBodyBytes: 1 << 20) { _ in .json(200, "{}") }
        defer { server.stop() }
        let r = try rawRequest(port: server.port, "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 104857600\r\n\r\n")
        XCTAssertTrue(r.hasPrefix("HTTP/1.1 413"), r)
    }

    func testANegativeLengthGets400AndTheServerStaysUp() throws {
        let server = try LoopbackHTTPServer(port: 0) { _ in .json(200, "{\"ok\":true}") }
        defer { server.stop() }
        let bad = try rawRequest(port: server.port, "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -1\r\n\r\n")
        XCTAssertTrue(bad.hasPrefix("HTTP/1.1 400"), bad)
        let good = try HTTPClient().send(method: "GET", url: server.baseURL + "/", timeoutMs: 5000, connectTimeoutMs: 1000)
        XCTAssertEqual(good.status, 200)
    }

    func testForeignHostsAndCrossSiteOriginsGet403() throws {
        let server = try LoopbackHTTPServer(port: 0) { _ in .json(200, "{\"ran\":true}") }
        defer { server.stop() }
        let rebinding = try rawRequest(port: server.port, "POST / HTTP/1.1\r\nHost: attacker.example:8080\r\nContent-Length: 2\r\n\r\n{}")
        XCTAssertTrue(rebinding.hasPrefix("HTTP/1.1 403"), rebinding)
        let noHost = try rawRequest(port: server.port, "POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}")
        XCTAssertTrue(noHost.hasPrefix("HTTP/1.1 403"), noHost)
        let formPost = try rawRequest(
            port: server.port,
            "POST / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nOrigin: https://evil.example\r\n"
                + "Content-Type: text/plain\r\nContent-Length: 2\r\n\r\n{}")
        XCTAssertTrue(formPost.hasPrefix("HTTP/1.1 403"), formPost)
        let sandboxed = try rawRequest(port: server.port, "POST / HTTP/1.1\r\nHost: localhost\r\nOrigin: null\r\nContent-Length: 2\r\n\r\n{}")
        XCTAssertTrue(sandboxed.hasPrefix("HTTP/1.1 403"), sandboxed)
        for host in ["127.0.0.1", "localhost:3000", "[::1]:9001", "app.localhost", "127.1.2.3:80"] {
            let ok = try rawRequest(port: server.port, "POST / HTTP/1.1\r\nHost: \(host)\r\nContent-Length: 2\r\n\r\n{}")
            XCTAssertTrue(ok.hasPrefix("HTTP/1.1 200"), "\(host): \(ok)")
        }
        let localOrigin = try rawRequest(
            port: server.port, "POST / HTTP/1.1\r\nHost: localhost:3000\r\nOrigin: http://localhost:3000\r\nContent-Length: 2\r\n\r\n{}")
        XCTAssertTrue(localOrigin.hasPrefix("HTTP/1.1 200"), localOrigin)
    }

    /// Sends `text` on a fresh connection and returns what comes back before the server closes or 2 s pass.
    func rawRequest(port: Int, _ text: String) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        XCTAssertEqual(rc, 0)
        var tv = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            out += buf[0..<n]
            if let text = String(validating: out, as: UTF8.self), text.contains("\r\n\r\n") {
                // One response is enough: stop at its end.
                if let cl = text.range(of: "Content-Length: ") {
                    let digits = text[cl.upperBound...].prefix { $0.isNumber }
                    if let n = Int(digits), let end = text.range(of: "\r\n\r\n"),
                        text.utf8.count >= text.utf8.distance(from: text.startIndex, to: end.upperBound) + n
                    {
                        break
                    }
                }
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Findings of the review of the libcurl runtime and the local servers, each kept by a test.
final class ReviewRegressionTests: XCTestCase {
    func testChunkSizesBeyondInt64AreRefusedNotTrapped() {
        for size in ["ffffffffffffffff", "8000000000000000", "fffffffffffffffff", "000000000000000001"] {
            var reader = HTTPRequestReader(
                bytes: Array("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n\(size)\r\n".utf8),
                maxBodyBytes: 1 << 20)
            switch reader.next() {
            case .refused(let status, _): XCTAssertTrue(status == 413 || status == 400, "\(size): \(status)")
            case .closed: break  // 000…01: one byte announced, none sent
            case .request: XCTFail("\(size) read as a request")
            }
        }
    }

    func testLoopbackHostParsingRefusesTrailingNames() {
        XCTAssertFalse(LoopbackHTTPServer.isLoopback(hostPort: "[::1].evil.com"))
        XCTAssertFalse(LoopbackHTTPServer.isLoopback(hostPort: "[::1]evil"))
        XCTAssertTrue(LoopbackHTTPServer.isLoopback(hostPort: "[::1]:8080"))
    }

    func testCrossSiteFetchMetadataIsRefused() {
        let request = LoopbackHTTPServer.Request(
            method: "GET", path: "/me", headers: [("host", "127.0.0.1:3000"), ("sec-fetch-site", "cross-site")], body: [])
        XCTAssertEqual(LoopbackHTTPServer.crossSiteRefusal(request)?.status, 403)
    }

    /// A request id that could redirect the result (`../init/error`, a query) ends the process before the
    /// handler runs; a sane id still works.
    func testRequestIdsOutsideLambdasAlphabetAreRefused() {
        for id in ["../init/error", "x/../../init/error#", "id?x=", "a b", "é"] {
            XCTAssertFalse(CurlRuntimeAPIClient.isValidRequestId(id), id)
        }
        XCTAssertTrue(CurlRuntimeAPIClient.isValidRequestId("8f3c2b1a-4d5e-4f60-a7b8-c9d0e1f2a3b4"))
        XCTAssertEqual(CurlRuntimeAPIClient.deadline("-9223372036854775808"), 0)
        XCTAssertEqual(CurlRuntimeAPIClient.deadline("9223372036854775807"), 1 << 50)
    }
}
