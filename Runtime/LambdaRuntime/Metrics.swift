import JSON
import Synchronization

/// The unit CloudWatch records a metric in.
public enum MetricUnit: String, Sendable {
    case count = "Count"
    case milliseconds = "Milliseconds"
    case seconds = "Seconds"
    case none = "None"
}

/// CloudWatch metrics in Embedded Metric Format: one JSON line on standard output per emission, which
/// CloudWatch Logs turns into metrics with no agent and no API call.
///
/// Off until the Lambda host configures it with the application's `MetricsOptions`, so the harness and
/// tests that run handlers in process write nothing. Every line carries the dimension `function` and the
/// invocation's `requestId` (a property, not a dimension) for finding the log lines that go with it: a
/// handler writes through `context.metrics`, which knows its invocation.
public final class Metrics: Sendable {
    /// The process's metrics (a Lambda process serves one function).
    public static let shared = Metrics()

    private struct State {
        var options = MetricsOptions.off
        var function = ""
        var fd: Int32 = 1
    }

    private let state = Mutex(State())

    /// Creates a sink that writes nothing until configured.
    public init() {}

    /// Writes lines as `options` say, for `function`, to `fd` (standard output).
    public func configure(_ options: MetricsOptions, function: String, fd: Int32 = 1) {
        state.withLock { $0 = State(options: options, function: function, fd: fd) }
    }

    /// Whether lines are written.
    public var isEnabled: Bool { state.withLock { $0.options.enabled } }

    /// Writes one EMF line with `metrics` under one dimension set: `function` plus `dimensions`, tagged with
    /// `requestId`.
    ///
    /// Dimension values are cut to 256 characters and an empty one becomes `none` (CloudWatch refuses both
    /// otherwise); callers pass only values from a closed set, never raw input, to bound the metrics' count.
    public func emit(
        _ metrics: [(name: String, value: Double, unit: MetricUnit)], dimensions: [(String, String)],
        requestId: String?
    ) {
        guard
            let (fd, line) = state.withLock({ s -> (Int32, String)? in
                guard s.options.enabled, !metrics.isEmpty else { return nil }
                return (
                    s.fd,
                    Self.line(
                        metrics, dimensions: [("function", s.function)] + dimensions, namespace: s.options.namespace,
                        requestId: requestId, timestampMs: Clock.nowMs())
                )
            })
        else { return }
        var text = line
        LambdaLogHandler.write(&text, to: fd)
    }

    /// The EMF object: `_aws` metadata, then the dimension values, metric values and `requestId` as members.
    static func line(
        _ metrics: [(name: String, value: Double, unit: MetricUnit)], dimensions: [(String, String)],
        namespace: String, requestId: String?, timestampMs: Int64
    ) -> String {
        var seen = Set<String>()
        let dims = dimensions.filter { seen.insert($0.0).inserted }
        var line = "{\"_aws\":{\"Timestamp\":\(timestampMs),\"CloudWatchMetrics\":[{\"Namespace\":"
        JSONText.appendQuoted(namespace, to: &line)
        line += ",\"Dimensions\":[["
        line += dims.map { JSONText.quoted($0.0) }.joined(separator: ",")
        line += "]],\"Metrics\":["
        line += metrics.map { "{\"Name\":\(JSONText.quoted($0.name)),\"Unit\":\"\($0.unit.rawValue)\"}" }.joined(separator: ",")
        line += "]}]}"
        for (key, value) in dims {
            let v = value.isEmpty ? "none" : String(value.prefix(256))
            line += ","
            JSONText.appendQuoted(key, to: &line)
            line += ":"
            JSONText.appendQuoted(v, to: &line)
        }
        for m in metrics where !seen.contains(m.name) {
            line += ","
            JSONText.appendQuoted(m.name, to: &line)
            line += ":"
            line += m.value.isFinite ? (m.value.rounded() == m.value && abs(m.value) < 9.0e15 ? String(Int64(m.value)) : String(m.value)) : "0"
        }
        if let requestId {
            line += ",\"requestId\":"
            JSONText.appendQuoted(requestId, to: &line)
        }
        line += "}\n"
        return line
    }
}
