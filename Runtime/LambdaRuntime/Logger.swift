#if canImport(Glibc)
import Glibc
#endif

/// Severity of a log line, named as Lambda's advanced logging controls name them.
public enum LogLevel: Int, Sendable, Comparable, CaseIterable {
    case trace = 0, debug, info, warn, error, fatal

    /// The upper-case name Lambda uses (`INFO`, `WARN`, ...).
    public var name: String {
        switch self {
        case .trace: "TRACE"
        case .debug: "DEBUG"
        case .info: "INFO"
        case .warn: "WARN"
        case .error: "ERROR"
        case .fatal: "FATAL"
        }
    }

    /// Parses `AWS_LAMBDA_LOG_LEVEL` / `LOG_LEVEL` values, case-insensitively (`warning` is accepted too).
    public init?(parsing text: String) {
        switch text.lowercased() {
        case "trace": self = .trace
        case "debug": self = .debug
        case "info": self = .info
        case "warn", "warning": self = .warn
        case "error": self = .error
        case "fatal", "critical": self = .fatal
        default: return nil
        }
    }

    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rawValue < b.rawValue }
}

/// How log lines are written: JSON objects (Lambda's `JSON` format) or plain text for people.
public enum LogFormat: Sendable {
    case json, text
}

/// A value attached to a log line.
public enum LogValue: Sendable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByFloatLiteral, CustomStringConvertible
{
    case string(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)

    /// A string field from a literal.
    public init(stringLiteral value: String) { self = .string(value) }
    /// An integer field from a literal.
    public init(integerLiteral value: Int64) { self = .int(value) }
    /// A boolean field from a literal.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// A number field from a literal.
    public init(floatLiteral value: Double) { self = .double(value) }

    public var description: String {
        switch self {
        case .string(let s): s
        case .int(let i): String(i)
        case .double(let d): String(d)
        case .bool(let b): b ? "true" : "false"
        }
    }
}

/// A structured logger writing one line per call to standard error.
///
/// A value type: binding request metadata (`with(_:_:)`) copies a few words, so a per-invocation logger
/// costs no allocation beyond its strings. Each line goes out in a single `write(2)`, so lines from
/// different threads never interleave.
public struct Logger: Sendable {
    /// Lines below this level are dropped before any formatting work.
    public var level: LogLevel
    /// The output format.
    public var format: LogFormat
    /// Fields added to every line (request id, function name, ...), in order.
    public private(set) var metadata: [(String, LogValue)]
    private let fd: Int32

    /// Creates a logger writing to `fd` (standard error by default).
    public init(level: LogLevel = .info, format: LogFormat = .json, fd: Int32 = 2,
                metadata: [(String, LogValue)] = []) {
        self.level = level
        self.format = format
        self.fd = fd
        self.metadata = metadata
    }

    /// Reads `AWS_LAMBDA_LOG_LEVEL` (else `LOG_LEVEL`, else info) and `AWS_LAMBDA_LOG_FORMAT` (`JSON` default, `Text`).
    public init(environment: Environment, fd: Int32 = 2) {
        let levelText = environment["AWS_LAMBDA_LOG_LEVEL"] ?? environment["LOG_LEVEL"] ?? "info"
        let formatText = environment["AWS_LAMBDA_LOG_FORMAT"] ?? environment["LOG_FORMAT"] ?? "JSON"
        self.init(level: LogLevel(parsing: levelText) ?? .info,
                  format: formatText.lowercased() == "text" ? .text : .json, fd: fd)
    }

    /// A copy with one more field on every line (replacing a field of the same name).
    public func with(_ key: String, _ value: LogValue) -> Logger {
        var copy = self
        if let i = copy.metadata.firstIndex(where: { $0.0 == key }) {
            copy.metadata[i].1 = value
        } else {
            copy.metadata.append((key, value))
        }
        return copy
    }

    /// Logs at trace level.
    public func trace(_ message: @autoclosure () -> String, _ fields: KeyValuePairs<String, LogValue> = [:]) {
        log(.trace, message(), fields)
    }
    /// Logs at debug level.
    public func debug(_ message: @autoclosure () -> String, _ fields: KeyValuePairs<String, LogValue> = [:]) {
        log(.debug, message(), fields)
    }
    /// Logs at info level.
    public func info(_ message: @autoclosure () -> String, _ fields: KeyValuePairs<String, LogValue> = [:]) {
        log(.info, message(), fields)
    }
    /// Logs at warn level.
    public func warn(_ message: @autoclosure () -> String, _ fields: KeyValuePairs<String, LogValue> = [:]) {
        log(.warn, message(), fields)
    }
    /// Logs at error level.
    public func error(_ message: @autoclosure () -> String, _ fields: KeyValuePairs<String, LogValue> = [:]) {
        log(.error, message(), fields)
    }

    /// Writes one line when `level` is enabled.
    public func log(_ level: LogLevel, _ message: @autoclosure () -> String,
                    _ fields: KeyValuePairs<String, LogValue> = [:]) {
        guard level >= self.level else { return }
        var line = ""
        line.reserveCapacity(160)
        let time = Self.timestamp()
        switch format {
        case .json:
            line += "{\"timestamp\":\""
            line += time
            line += "\",\"level\":\""
            line += level.name
            line += "\",\"message\":"
            JSONText.appendQuoted(message(), to: &line)
            for (key, value) in metadata { Self.appendField(key, value, to: &line) }
            for (key, value) in fields { Self.appendField(key, value, to: &line) }
            line += "}\n"
        case .text:
            line += time
            line += " "
            line += level.name
            for (key, value) in metadata where key == "requestId" { line += " "; line += value.description }
            line += " "
            line += message()
            for (key, value) in metadata where key != "requestId" { line += " \(key)=\(value.description)" }
            for (key, value) in fields { line += " \(key)=\(value.description)" }
            line += "\n"
        }
        var bytes = line
        bytes.withUTF8 { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n <= 0 { break }
                offset += n
            }
        }
    }

    private static func appendField(_ key: String, _ value: LogValue, to line: inout String) {
        line += ","
        JSONText.appendQuoted(key, to: &line)
        line += ":"
        switch value {
        case .string(let s): JSONText.appendQuoted(s, to: &line)
        case .int(let i): line += String(i)
        case .double(let d): line += d.isFinite ? String(d) : "null"
        case .bool(let b): line += b ? "true" : "false"
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
