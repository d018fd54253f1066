import JSON
import LambdaRuntime

#if canImport(Glibc)
    import Glibc
#endif

/// Reads HTTP/1.1 requests (Content-Length or chunked bodies) from a connected socket, or from bytes
/// (tests and the fuzz target).
///
/// Everything here comes from another process, so nothing traps: lengths are bounded non-negative
/// numbers, a body over `maxBodyBytes` is refused before it is buffered, and a head over 64 KiB ends the
/// connection.
public struct HTTPRequestReader {
    /// One request.
    public struct Request {
        /// `GET`, `POST`, ...
        public var method: String
        /// The request target.
        public var path: String
        /// Header names lower-cased, values without leading blanks, in arrival order.
        public var headers: [(String, String)]
        /// The body.
        public var body: [UInt8]
        /// The first header named `name` (lower-case).
        public func header(_ name: String) -> String? { headers.first { $0.0 == name }?.1 }
    }

    /// What the next read produced.
    public enum Outcome {
        /// A whole request.
        case request(Request)
        /// The peer closed the connection (or stopped mid-request).
        case closed
        /// A request that must be refused with `status` (400 malformed, 413 too large); then close.
        case refused(status: Int, reason: String)
    }

    private let fd: Int32?
    private var buffer: [UInt8] = []
    private var start = 0
    private var chunk = [UInt8](repeating: 0, count: 65536)
    /// Bodies larger than this are refused with 413 before they are read.
    public var maxBodyBytes: Int
    static let maxHeadBytes = 65536

    /// Reads from a connected socket.
    public init(fd: Int32, maxBodyBytes: Int = 7 << 20) {
        self.fd = fd
        self.maxBodyBytes = maxBodyBytes
    }

    /// Reads from `bytes`, as if a peer had sent them and closed.
    public init(bytes: [UInt8], maxBodyBytes: Int = 7 << 20) {
        self.fd = nil
        self.buffer = bytes
        self.maxBodyBytes = maxBodyBytes
    }

    private mutating func fill() -> Bool {
        guard let fd else { return false }
        // Drop what was consumed, or one keep-alive connection could grow the buffer without bound.
        if start > 0 && (start == buffer.count || start >= 65536) {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { return false }
        buffer.append(contentsOf: chunk[0..<n])
        return true
    }

    private func find(_ pattern: [UInt8], from: Int) -> Int? {
        guard from >= 0, buffer.count >= pattern.count else { return nil }
        var i = from
        outer: while i + pattern.count <= buffer.count {
            for j in 0..<pattern.count where buffer[i + j] != pattern[j] {
                i += 1
                continue outer
            }
            return i
        }
        return nil
    }

    /// A decimal (or, for chunk sizes, hexadecimal) length of at most `limit`: digits only, no sign.
    static func length(_ text: Substring, radix: Int, limit: Int) -> Int? {
        let digits = text.utf8
        guard !digits.isEmpty, digits.count <= 18 else { return nil }
        // Stops as soon as the value passes `limit` (a few MiB), so the arithmetic never nears overflow.
        var value = 0
        for c in digits {
            let d: Int
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = Int(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f") where radix == 16: d = Int(c - UInt8(ascii: "a")) + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F") where radix == 16: d = Int(c - UInt8(ascii: "A")) + 10
            default: return nil
            }
            value = value * radix + d
            if value > limit { return Int.max }
        }
        return value
    }

    /// Reads the next request.
    public mutating func next() -> Outcome {
        var headEnd: Int?
        while true {
            headEnd = find([13, 10, 13, 10], from: start)
            if headEnd != nil { break }
            if buffer.count - start > Self.maxHeadBytes { return .refused(status: 431, reason: "request head too large") }
            if !fill() { return .closed }
        }
        guard let end = headEnd else { return .closed }
        let head = String(decoding: buffer[start..<end], as: UTF8.self)
        start = end + 4
        var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
        guard !lines.isEmpty else { return .refused(status: 400, reason: "no request line") }
        let requestLine = lines.removeFirst().split(separator: " ")
        guard requestLine.count >= 2 else { return .refused(status: 400, reason: "malformed request line") }
        var headers: [(String, String)] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append(
                (
                    line[..<colon].lowercased(),
                    String(line[line.index(after: colon)...].drop(while: { $0 == " " || $0 == "\t" }))
                ))
        }
        var body: [UInt8] = []
        if let te = headers.first(where: { $0.0 == "transfer-encoding" }), te.1.lowercased().contains("chunked") {
            while true {
                var lineEnd = find([13, 10], from: start)
                while lineEnd == nil {
                    if buffer.count - start > 1024 { return .refused(status: 400, reason: "malformed chunk size") }
                    guard fill() else { return .closed }
                    lineEnd = find([13, 10], from: start)
                }
                guard let sizeEnd = lineEnd else { return .closed }
                let sizeLine = String(decoding: buffer[start..<sizeEnd], as: UTF8.self)
                let sizeText = (sizeLine.split(separator: ";", omittingEmptySubsequences: false).first ?? "")
                guard let size = Self.length(Substring(sizeText.trimmingWhitespace()), radix: 16, limit: maxBodyBytes) else {
                    return .refused(status: 400, reason: "malformed chunk size")
                }
                guard size <= maxBodyBytes - body.count else { return .refused(status: 413, reason: "body too large") }
                start = sizeEnd + 2
                while buffer.count - start < size + 2 { guard fill() else { return .closed } }
                body.append(contentsOf: buffer[start..<(start + size)])
                guard buffer[start + size] == 13, buffer[start + size + 1] == 10 else {
                    return .refused(status: 400, reason: "malformed chunk")
                }
                start += size + 2
                if size == 0 { break }
            }
        } else if let cl = headers.first(where: { $0.0 == "content-length" }) {
            guard let length = Self.length(Substring(cl.1.trimmingWhitespace()), radix: 10, limit: maxBodyBytes) else {
                return .refused(status: 400, reason: "malformed Content-Length")
            }
            guard length <= maxBodyBytes else { return .refused(status: 413, reason: "body too large") }
            while buffer.count - start < length { guard fill() else { return .closed } }
            body = Array(buffer[start..<(start + length)])
            start += length
        }
        return .request(Request(method: String(requestLine[0]), path: String(requestLine[1]), headers: headers, body: body))
    }
}
