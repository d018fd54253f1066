import JSON
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// How log lines are written: Lambda's `JSON` format (one object per line) or `Text` for people.
public enum LambdaLogFormat: Sendable {
    case json, text
}

/// A swift-log handler that writes Lambda's log format to a file descriptor (standard error by default).
///
/// Lines carry `timestamp`, `level` (Lambda's names: `TRACE`…`FATAL`), `message`, `requestId`, then the
/// metadata. The request id has its own slot rather than a metadata entry, so a host can set it for every
/// invocation without copying a dictionary. Each line goes out in one `write(2)`, so lines from different
/// threads never interleave.
public struct LambdaLogHandler: LogHandler {
    /// Lines below this level are dropped before any formatting work.
    public var logLevel: Logger.Level
    /// The output format.
    public var format: LambdaLogFormat
    /// Fields added to every line (function name, …).
    public var metadata: Logger.Metadata = [:]
    /// The invocation this logger speaks for (set per invocation by the host).
    public var requestId: String?
    private let fd: Int32

    /// Creates a handler writing to `fd`.
    public init(level: Logger.Level = .info, format: LambdaLogFormat = .json, fd: Int32 = 2) {
        self.logLevel = level
        self.format = format
        self.fd = fd
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { key == "requestId" ? requestId.map { .string($0) } : metadata[key] }
        set {
            if key == "requestId" {
                if case .string(let s)? = newValue { requestId = s } else { requestId = newValue?.description }
            } else {
                metadata[key] = newValue
            }
        }
    }

    /// Lambda's name for a swift-log level (`notice` is `INFO`, `critical` is `FATAL`).
    public static func lambdaName(_ level: Logger.Level) -> String {
        switch level {
        case .trace: "TRACE"
        case .debug: "DEBUG"
        case .info, .notice: "INFO"
        case .warning: "WARN"
        case .error: "ERROR"
        case .critical: "FATAL"
        }
    }

    /// Parses `AWS_LAMBDA_LOG_LEVEL` / `LOG_LEVEL` values, case-insensitively.
    public static func level(parsing text: String) -> Logger.Level? {
        switch text.lowercased() {
        case "trace": .trace
        case "debug": .debug
        case "info": .info
        case "warn", "warning": .warning
        case "error": .error
        case "fatal", "critical": .critical
        default: nil
        }
    }

    public func log(event: LogEvent) {
        var line = ""
        line.reserveCapacity(160)
        let time = Self.timestamp()
        let message = event.message.description
        switch format {
        case .json:
            line += "{\"timestamp\":\""
            line += time
            line += "\",\"level\":\""
            line += Self.lambdaName(event.level)
            line += "\",\"message\":"
            JSONText.appendQuoted(message, to: &line)
            if let requestId {
                line += ",\"requestId\":"
                JSONText.appendQuoted(requestId, to: &line)
            }
            for (key, value) in metadata where event.metadata?[key] == nil { Self.appendField(key, value, to: &line) }
            if let fields = event.metadata {
                for (key, value) in fields { Self.appendField(key, value, to: &line) }
            }
            line += "}\n"
        case .text:
            // Every value is escaped, so nothing a caller passes can start a line of its own.
            line += time
            line += " "
            line += Self.lambdaName(event.level)
            if let requestId {
                line += " "
                Self.appendEscaped(requestId, to: &line)
            }
            line += " "
            Self.appendEscaped(message, to: &line)
            for (key, value) in metadata where event.metadata?[key] == nil {
                line += " "
                Self.appendEscaped(key, to: &line)
                line += "="
                Self.appendEscaped(value.description, to: &line)
            }
            if let fields = event.metadata {
                for (key, value) in fields {
                    line += " "
                    Self.appendEscaped(key, to: &line)
                    line += "="
                    Self.appendEscaped(value.description, to: &line)
                }
            }
            line += "\n"
        }
        Self.write(&line, to: fd)
    }

    /// Writes one finished line in a single `write(2)` (retrying short writes); metrics lines use it too.
    public static func write(_ line: inout String, to fd: Int32) {
        line.withUTF8 { buffer in
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.write(fd, base + offset, buffer.count - offset)
                if n <= 0 { break }
                offset += n
            }
        }
    }

    private static func appendField(_ key: String, _ value: Logger.MetadataValue, to line: inout String) {
        line += ","
        JSONText.appendQuoted(key, to: &line)
        line += ":"
        appendValue(value, to: &line)
    }

    /// Numbers and booleans stay JSON numbers and booleans; everything else is a string, array or object.
    private static func appendValue(_ value: Logger.MetadataValue, to line: inout String) {
        switch value {
        case .string(let s): JSONText.appendQuoted(s, to: &line)
        case .stringConvertible(let v):
            switch v {
            case let b as Bool: line += b ? "true" : "false"
            case let i as Int: line += String(i)
            case let i as Int64: line += String(i)
            case let i as Int32: line += String(i)
            case let u as UInt64: line += String(u)
            case let d as Double: line += d.isFinite ? String(d) : "null"
            default: JSONText.appendQuoted(v.description, to: &line)
            }
        case .array(let items):
            line += "["
            for (i, item) in items.enumerated() {
                if i > 0 { line += "," }
                appendValue(item, to: &line)
            }
            line += "]"
        case .dictionary(let fields):
            line += "{"
            var first = true
            for (k, v) in fields {
                if !first { line += "," }
                first = false
                JSONText.appendQuoted(k, to: &line)
                line += ":"
                appendValue(v, to: &line)
            }
            line += "}"
        }
    }

    /// Text-format escaping: control characters (newlines included) and backslashes become visible escapes.
    static func appendEscaped(_ text: String, to line: inout String) {
        var needs = false
        for b in text.utf8 where b < 0x20 || b == 0x5C || b == 0x7F {
            needs = true
            break
        }
        guard needs else {
            line += text
            return
        }
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": line += "\\n"
            case "\r": line += "\\r"
            case "\t": line += "\\t"
            case "\\": line += "\\\\"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16)
                    line += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    line.unicodeScalars.append(scalar)
                }
            }
        }
    }

    /// RFC 3339 UTC time with milliseconds, formatted by hand: this runs for every log line.
    static func timestamp() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var t = ts.tv_sec
        var parts = tm()
        gmtime_r(&t, &parts)
        let ms = Int(ts.tv_nsec / 1_000_000)
        func pad(_ v: Int, _ width: Int) -> String {
            let s = String(v)
            return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
        }
        return "\(pad(Int(parts.tm_year) + 1900, 4))-\(pad(Int(parts.tm_mon) + 1, 2))-\(pad(Int(parts.tm_mday), 2))T"
            + "\(pad(Int(parts.tm_hour), 2)):\(pad(Int(parts.tm_min), 2)):\(pad(Int(parts.tm_sec), 2)).\(pad(ms, 3))Z"
    }
}
