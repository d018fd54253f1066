import Logging

/// The log lines a unit under test wrote: message, level and fields as text. One test thread at a time.
final class RecordingLogs: @unchecked Sendable {
    struct Line: Equatable {
        var level: Logger.Level
        var message: String
        var fields: [String: String]
    }
    private(set) var lines: [Line] = []

    /// A logger that records here, at every level.
    var logger: Logger { Logger(label: "unit") { _ in Handler(logs: self) } }

    /// Every line and field as one text, to check what never reaches a log.
    var text: String { lines.map { "\($0.message) \($0.fields.sorted { $0.key < $1.key })" }.joined(separator: "\n") }

    struct Handler: LogHandler {
        let logs: RecordingLogs
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let fields = metadata.merging(event.metadata ?? [:]) { $1 }.mapValues { "\($0)" }
            logs.lines.append(Line(level: event.level, message: "\(event.message)", fields: fields))
        }
    }
}
