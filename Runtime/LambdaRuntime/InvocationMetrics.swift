/// The metrics of one invocation (`context.metrics`): every line carries its request id.
public struct InvocationMetrics: Sendable {
    /// Where the lines go.
    public let sink: Metrics
    /// The invocation the lines belong to.
    public let requestId: String

    /// Binds `sink` to the invocation `requestId`.
    public init(sink: Metrics, requestId: String) {
        self.sink = sink
        self.requestId = requestId
    }

    /// Adds `value` to `name` (a count), split by `dimensions` besides `function`.
    public func count(_ name: String, _ value: Double = 1, dimensions: [(String, String)] = []) {
        sink.emit([(name, value, .count)], dimensions: dimensions, requestId: requestId)
    }

    /// Writes one EMF line with `metrics` under `function` plus `dimensions`.
    public func emit(_ metrics: [(name: String, value: Double, unit: MetricUnit)], dimensions: [(String, String)] = []) {
        sink.emit(metrics, dimensions: dimensions, requestId: requestId)
    }
}
