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
/// Off until the Lambda host configures it (`CLERK_METRICS`, `CLERK_METRICS_NAMESPACE`), so the harness and
/// tests that run handlers in process write nothing. Every line carries the dimension `function` and the
/// invocation's `requestId` (a property, not a dimension) for finding the log lines that go with it.
public final class Metrics: Sendable {
    /// The process's metrics (a Lambda process serves one function).
    public static let shared = Metrics()

    private struct State {
        var enabled = false
        var namespace = "ClerkFunctions"
        var function = ""
        var requestId: String?
        var fd: Int32 = 1
    }

    private let state = Mutex(State())

    /// Creates a sink that writes nothing until configured.
    public init() {}

    /// Turns metrics on (unless `CLERK_METRICS` is false) for `function`, writing to `fd` (standard output).
    public func configure(environment env: Environment, function: String, fd: Int32 = 1) throws(InitError) {
        let enabled: Bool
        switch env["CLERK_METRICS"]?.lowercased() ?? "true" {
        case "true", "1", "yes", "on": enabled = true
        case "false", "0", "no", "off": enabled = false
        default: throw InitError(errorType: "Runtime.ConfigError", errorMessage: "CLERK_METRICS is invalid: expected true or false")
        }
        let namespace = env["CLERK_METRICS_NAMESPACE"] ?? "ClerkFunctions"
        // CloudWatch's namespace alphabet; anything else would make CloudWatch drop every line silently.
        guard namespace.count <= 255, !namespace.hasPrefix("AWS/"), namespace.unicodeScalars.allSatisfy({
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || ".-_/#: ".unicodeScalars.contains($0)
        }) else {
            throw InitError(errorType: "Runtime.ConfigError",
                            errorMessage: "CLERK_METRICS_NAMESPACE is invalid: letters, digits and . - _ / # : space, up to 255, not AWS/")
        }
        state.withLock {
            $0 = State(enabled: enabled, namespace: namespace, function: function, requestId: nil, fd: fd)
        }
    }

    /// Whether lines are written.
    public var isEnabled: Bool { state.withLock { $0.enabled } }

    /// The invocation the next lines belong to (the host sets it for each).
    public func setRequestId(_ id: String?) { state.withLock { $0.requestId = id } }

    /// Adds one to `name` (a count), split by `dimensions` besides `function`.
    public func count(_ name: String, _ value: Double = 1, dimensions: [(String, String)] = []) {
        emit([(name, value, .count)], dimensions: dimensions)
    }

    /// Writes one EMF line with `metrics` under one dimension set: `function` plus `dimensions`.
    ///
    /// Dimension values are cut to 256 characters and an empty one becomes `none` (CloudWatch refuses both
    /// otherwise); callers pass only values from a closed set, never raw input, to bound the metrics' count.
    public func emit(_ metrics: [(name: String, value: Double, unit: MetricUnit)], dimensions: [(String, String)] = []) {
        guard let (fd, line) = state.withLock({ s -> (Int32, String)? in
            guard s.enabled, !metrics.isEmpty else { return nil }
            return (s.fd, Self.line(metrics, dimensions: [("function", s.function)] + dimensions, namespace: s.namespace,
                                    requestId: s.requestId, timestampMs: Clock.nowMs()))
        }) else { return }
        var text = line
        LambdaLogHandler.write(&text, to: fd)
    }

    /// The EMF object: `_aws` metadata, then the dimension values, metric values and `requestId` as members.
    static func line(_ metrics: [(name: String, value: Double, unit: MetricUnit)], dimensions: [(String, String)],
                     namespace: String, requestId: String?, timestampMs: Int64) -> String {
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
