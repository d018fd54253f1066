#if canImport(Glibc)
import Glibc
#endif

/// Reads HTTP/1.1 responses from a socket into one reusable buffer, keeping only what the Runtime API
/// client needs: the status, the `Lambda-Runtime-*` headers (prefix stripped, lower-cased) and the body.
struct ResponseReader {
    enum Failure: Error {
        case closed
        case io(Int32)
        case malformed(String)
    }

    private var buffer: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0
    private(set) var body: [UInt8] = []
    private(set) var runtimeHeaders: [(String, String)] = []

    init(capacity: Int = 65536) {
        buffer = .allocate(byteCount: capacity, alignment: 1)
    }

    /// Frees the buffer (the owning client's deinit calls this).
    func release() { buffer.deallocate() }

    /// Forgets buffered bytes (a new connection).
    mutating func reset() {
        start = 0
        end = 0
    }

    /// Reads one response; returns its status.
    mutating func read(fd: Int32) throws(Failure) -> Int {
        var headEnd = -1
        var scanFrom = start
        while true {
            if let i = find(crlfcrlf: scanFrom) { headEnd = i; break }
            scanFrom = max(start, end - 3)
            try fill(fd: fd)
        }
        let status = try parseHead(from: start, to: headEnd)
        start = headEnd + 4
        switch framing {
        case .length(let n):
            while end - start < n { try fill(fd: fd, need: n - (end - start)) }
            body = Array(UnsafeRawBufferPointer(rebasing: buffer[start..<(start + n)]))
            start += n
        case .chunked:
            body = []
            while true {
                var lineEnd = findCRLF(from: start)
                while lineEnd == nil { try fill(fd: fd); lineEnd = findCRLF(from: start) }
                let sizeText = String(decoding: UnsafeRawBufferPointer(rebasing: buffer[start..<lineEnd!]), as: UTF8.self)
                guard let size = Int(sizeText.split(separator: ";").first.map(String.init) ?? "", radix: 16) else {
                    throw .malformed("bad chunk size")
                }
                start = lineEnd! + 2
                while end - start < size + 2 { try fill(fd: fd, need: size + 2 - (end - start)) }
                body.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[start..<(start + size)]))
                start += size + 2
                if size == 0 { break }
            }
        }
        if start == end { start = 0; end = 0 }
        return status
    }

    private enum Framing { case length(Int), chunked }
    private var framing = Framing.length(0)

    private mutating func parseHead(from: Int, to: Int) throws(Failure) -> Int {
        // "HTTP/1.1 200 OK"
        guard to - from >= 12, buffer[from] == UInt8(ascii: "H") else { throw .malformed("no status line") }
        var status = 0
        for i in (from + 9)..<(from + 12) {
            let d = buffer[i]
            guard d >= 0x30 && d <= 0x39 else { throw .malformed("bad status code") }
            status = status * 10 + Int(d - 0x30)
        }
        runtimeHeaders.removeAll(keepingCapacity: true)
        framing = .length(0)
        var lineStart = (findCRLF(from: from) ?? to) + 2
        while lineStart < to {
            let lineEnd = findCRLF(from: lineStart) ?? to
            if let colon = firstIndex(of: UInt8(ascii: ":"), from: lineStart, to: lineEnd) {
                var vStart = colon + 1
                while vStart < lineEnd && buffer[vStart] == 0x20 { vStart += 1 }
                var vEnd = lineEnd
                while vEnd > vStart && buffer[vEnd - 1] == 0x20 { vEnd -= 1 }
                let nameLength = colon - lineStart
                if nameLength > 15 && matches("lambda-runtime-", at: lineStart) {
                    var name = [UInt8](UnsafeRawBufferPointer(rebasing: buffer[(lineStart + 15)..<colon]))
                    for i in name.indices where name[i] >= 0x41 && name[i] <= 0x5A { name[i] |= 0x20 }
                    // "aws-request-id" is the one Lambda-Runtime-Aws-* header: keep the short name.
                    let key = String(decoding: name, as: UTF8.self)
                    runtimeHeaders.append((key == "aws-request-id" ? "request-id" : key,
                                           String(decoding: UnsafeRawBufferPointer(rebasing: buffer[vStart..<vEnd]), as: UTF8.self)))
                } else if nameLength == 14 && matches("content-length", at: lineStart) {
                    var n = 0
                    for i in vStart..<vEnd {
                        let d = buffer[i]
                        guard d >= 0x30 && d <= 0x39 else { throw .malformed("bad Content-Length") }
                        n = n * 10 + Int(d - 0x30)
                    }
                    framing = .length(n)
                } else if nameLength == 17 && matches("transfer-encoding", at: lineStart) {
                    if String(decoding: UnsafeRawBufferPointer(rebasing: buffer[vStart..<vEnd]), as: UTF8.self)
                        .lowercased().contains("chunked") { framing = .chunked }
                }
            }
            lineStart = lineEnd + 2
        }
        return status
    }

    private func matches(_ lowerName: StaticString, at offset: Int) -> Bool {
        let n = lowerName.utf8CodeUnitCount
        let p = lowerName.utf8Start
        for i in 0..<n {
            var c = buffer[offset + i]
            if c >= 0x41 && c <= 0x5A { c |= 0x20 }
            if c != p[i] { return false }
        }
        return true
    }

    private func firstIndex(of byte: UInt8, from: Int, to: Int) -> Int? {
        var i = from
        while i < to { if buffer[i] == byte { return i }; i += 1 }
        return nil
    }

    private func findCRLF(from: Int) -> Int? {
        var i = from
        while i + 1 < end { if buffer[i] == 13 && buffer[i + 1] == 10 { return i }; i += 1 }
        return nil
    }

    private func find(crlfcrlf from: Int) -> Int? {
        var i = from
        while i + 3 < end {
            if buffer[i + 3] == 10 && buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 { return i }
            i += 1
        }
        return nil
    }

    private mutating func fill(fd: Int32, need: Int = 1) throws(Failure) {
        if start > 0 && (buffer.count - end < need || start == end) {
            // Compact: move the unread bytes to the front.
            let unread = end - start
            if unread > 0 { buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + start, byteCount: unread) }
            start = 0
            end = unread
        }
        if buffer.count - end < need {
            var size = buffer.count
            while size - end < need { size *= 2 }
            let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 1)
            bigger.baseAddress!.copyMemory(from: buffer.baseAddress!, byteCount: end)
            buffer.deallocate()
            buffer = bigger
        }
        while true {
            let n = recv(fd, buffer.baseAddress! + end, buffer.count - end, 0)
            if n > 0 { end += n; return }
            if n == 0 { throw .closed }
            if errno == EINTR { continue }
            throw .io(errno)
        }
    }
}
