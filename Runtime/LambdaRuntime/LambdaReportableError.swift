import JSON

/// An error that names its own Lambda `errorType` and message (others are reported by their type name).
public protocol LambdaReportableError: Error {
    /// The `errorType` field, e.g. `InvalidEvent`.
    var errorType: String { get }
    /// The `errorMessage` field. It must not carry a secret or a token.
    var errorMessage: String { get }
}

/// The Lambda error object (`{"errorType":…,"errorMessage":…}`) for any thrown error.
public struct LambdaErrorObject: Sendable, Equatable {
    /// The `errorType` field.
    public var errorType: String
    /// The `errorMessage` field.
    public var errorMessage: String

    /// Creates the object from its two fields.
    public init(errorType: String, errorMessage: String) {
        self.errorType = errorType
        self.errorMessage = errorMessage
    }

    /// Describes `error` the way Lambda reports it.
    public init(_ error: any Error) {
        if let reportable = error as? LambdaReportableError {
            self.init(errorType: reportable.errorType, errorMessage: reportable.errorMessage)
        } else {
            self.init(errorType: String(describing: type(of: error)), errorMessage: String(describing: error))
        }
    }

    /// The JSON body Lambda expects.
    public var json: String {
        "{\"errorType\":\(JSONText.quoted(errorType)),\"errorMessage\":\(JSONText.quoted(errorMessage))}"
    }
}
