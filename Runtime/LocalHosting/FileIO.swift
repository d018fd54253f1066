import JSON
import LambdaRuntime

#if canImport(Glibc)
    import Glibc
#endif

/// Errors from reading and writing local files and descriptors.
public enum FileIOError: Error, CustomStringConvertible {
    case cannotOpen(path: String, errno: Int32)
    case readFailed(path: String, errno: Int32)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let e): "cannot open \(path): \(String(cString: strerror(e)))"
        case .readFailed(let path, let e): "cannot read \(path): \(String(cString: strerror(e)))"
        }
    }
}

/// Small POSIX file helpers, so the runtime needs no Foundation file APIs.
public enum FileIO {
    /// Reads a whole file (or standard input for `-`) as bytes.
    public static func read(_ path: String) throws -> [UInt8] {
        let fd: Int32 = path == "-" ? 0 : open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileIOError.cannotOpen(path: path, errno: errno) }
        defer { if fd != 0 { close(fd) } }
        return try readAll(fd: fd, name: path)
    }

    /// Reads a descriptor to its end.
    public static func readAll(fd: Int32, name: String = "fd") throws -> [UInt8] {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileIOError.readFailed(path: name, errno: errno)
            }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<n])
        }
        return out
    }

    /// Reads a whole file as UTF-8 text.
    public static func readText(_ path: String) throws -> String {
        String(decoding: try read(path), as: UTF8.self)
    }

    /// Writes all bytes to a descriptor, retrying short writes.
    public static func write(fd: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return }
                offset += n
            }
        }
    }

    /// Writes text to a descriptor.
    public static func write(fd: Int32, _ text: String) { write(fd: fd, Array(text.utf8)) }

    /// Whether a file exists at `path`.
    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }
}
