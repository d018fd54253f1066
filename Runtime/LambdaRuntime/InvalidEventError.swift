/// The event bytes were not the JSON shape the function accepts.
public struct InvalidEventError: LambdaReportableError, CustomStringConvertible {
    /// What was wrong, without echoing the event.
    public let reason: String
    public var errorType: String { "InvalidEvent" }
    public var errorMessage: String { reason }
    public var description: String { reason }

    /// Creates the error.
    public init(_ reason: String) { self.reason = reason }
}
