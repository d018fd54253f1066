import Logging

/// A log field's value: swift-log's metadata value, named as this package's call sites use it.
public typealias LogValue = Logger.MetadataValue

extension Logger.MetadataValue {
    /// An integer field, written as a JSON number.
    public static func int<I: BinaryInteger>(_ value: I) -> Self { .stringConvertible(Int64(clamping: value)) }
    /// A boolean field, written as a JSON boolean.
    public static func bool(_ value: Bool) -> Self { .stringConvertible(value) }
    /// A number field, written as a JSON number (`null` when not finite).
    public static func double(_ value: Double) -> Self { .stringConvertible(value) }
}

extension Logger {
    /// A logger writing Lambda's log format to `fd` (tests and local tools; the hosts use `init(environment:)`).
    public init(level: Logger.Level = .info, format: LambdaLogFormat = .json, fd: Int32 = 2) {
        self.init(label: "clerk-functions") { _ in LambdaLogHandler(level: level, format: format, fd: fd) }
    }

    /// Reads `AWS_LAMBDA_LOG_LEVEL` (else `LOG_LEVEL`, else info) and `AWS_LAMBDA_LOG_FORMAT` (`JSON` default, `Text`).
    public init(environment: Environment, fd: Int32 = 2) {
        let levelText = environment["AWS_LAMBDA_LOG_LEVEL"] ?? environment["LOG_LEVEL"] ?? "info"
        let formatText = environment["AWS_LAMBDA_LOG_FORMAT"] ?? environment["LOG_FORMAT"] ?? "JSON"
        self.init(
            level: LambdaLogHandler.level(parsing: levelText) ?? .info,
            format: formatText.lowercased() == "text" ? .text : .json, fd: fd)
    }

    /// A copy with one more field on every line (replacing a field of the same name).
    public func with(_ key: String, _ value: Logger.MetadataValue) -> Logger {
        var copy = self
        copy[metadataKey: key] = value
        return copy
    }

    /// Logs at warning level with fields (Lambda calls the level `WARN`).
    public func warn(
        _ message: @autoclosure () -> String, _ fields: KeyValuePairs<String, Logger.MetadataValue> = [:],
        file: String = #fileID, function: String = #function, line: UInt = #line
    ) {
        emit(.warning, message(), fields, file: file, function: function, line: line)
    }
    /// Logs at error level with fields.
    public func error(
        _ message: @autoclosure () -> String, _ fields: KeyValuePairs<String, Logger.MetadataValue>,
        file: String = #fileID, function: String = #function, line: UInt = #line
    ) {
        emit(.error, message(), fields, file: file, function: function, line: line)
    }
    /// Logs at info level with fields.
    public func info(
        _ message: @autoclosure () -> String, _ fields: KeyValuePairs<String, Logger.MetadataValue>,
        file: String = #fileID, function: String = #function, line: UInt = #line
    ) {
        emit(.info, message(), fields, file: file, function: function, line: line)
    }
    /// Logs at debug level with fields.
    public func debug(
        _ message: @autoclosure () -> String, _ fields: KeyValuePairs<String, Logger.MetadataValue>,
        file: String = #fileID, function: String = #function, line: UInt = #line
    ) {
        emit(.debug, message(), fields, file: file, function: function, line: line)
    }

    private func emit(
        _ level: Logger.Level, _ message: @autoclosure () -> String,
        _ fields: KeyValuePairs<String, Logger.MetadataValue>, file: String, function: String, line: UInt
    ) {
        guard logLevel <= level else { return }
        var metadata: Logger.Metadata = [:]
        for (k, v) in fields { metadata[k] = v }
        log(level: level, "\(message())", metadata: metadata, file: file, function: function, line: line)
    }
}
