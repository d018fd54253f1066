import JSON
import LambdaRuntime
#if canImport(Glibc)
import Glibc
#endif

/// Reads HTTP/1.1 requests (Content-Length or chunked bodies) from a connected socket.
struct HTTPRequestReader {
    struct Request {
        var method: String
        var path: String
        var headers: [(String, String)]
        var body: [UInt8]
        func header(_ name: String) -> String? { headers.first { $0.0 == name }?.1 }
    }

    let fd: Int32
    var buffer: [UInt8] = []
    var start = 0
    private var chunk = [UInt8](repeating: 0, count: 65536)

    init(fd: Int32) { self.fd = fd }

    private mutating func fill() -> Bool {
        if start > 0 && start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { return false }
        buffer.append(contentsOf: chunk[0..<n])
        return true
    }

    private func find(_ pattern: [UInt8], from: Int) -> Int? {
        guard buffer.count >= pattern.count else { return nil }
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

    mutating func next() -> Request? {
        var headEnd: Int?
        while true {
            headEnd = find([13, 10, 13, 10], from: start)
            if headEnd != nil { break }
            if buffer.count - start > 65536 || !fill() { return nil }
        }
        let head = String(decoding: buffer[start..<headEnd!], as: UTF8.self)
        start = headEnd! + 4
        var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
        let requestLine = lines.removeFirst().split(separator: " ")
        guard requestLine.count >= 2 else { return nil }
        var headers: [(String, String)] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((line[..<colon].lowercased(),
                            String(line[line.index(after: colon)...].drop(while: { $0 == " " }))))
        }
        var body: [UInt8] = []
        if let te = headers.first(where: { $0.0 == "transfer-encoding" }), te.1.lowercased().contains("chunked") {
            while true {
                var lineEnd = find([13, 10], from: start)
                while lineEnd == nil {
                    guard fill() else { return nil }
                    lineEnd = find([13, 10], from: start)
                }
                let sizeText = String(decoding: buffer[start..<lineEnd!], as: UTF8.self).split(separator: ";").first ?? ""
                guard let size = Int(sizeText.trimmingWhitespace(), radix: 16) else { return nil }
                start = lineEnd! + 2
                while buffer.count - start < size + 2 { guard fill() else { return nil } }
                body.append(contentsOf: buffer[start..<(start + size)])
                start += size + 2
                if size == 0 { break }
            }
        } else if let cl = headers.first(where: { $0.0 == "content-length" }), let length = Int(cl.1) {
            while buffer.count - start < length { guard fill() else { return nil } }
            body = Array(buffer[start..<(start + length)])
            start += length
        }
        return Request(method: String(requestLine[0]), path: String(requestLine[1]), headers: headers, body: body)
    }
}
