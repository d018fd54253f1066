import JSON

/// A Lambda function's body: raw event bytes in, raw response bytes out.
///
/// Synchronous on purpose: Lambda serves one invocation per process at a time, and everything below
/// (libcurl easy handles, libpq) blocks; an async layer would add hops and buy nothing.
public protocol Handler: Sendable {
    /// Handles one invocation; a thrown error becomes a Lambda error object.
    func handle(_ event: [UInt8], context: Context) throws -> [UInt8]
}

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

/// A handler made from a closure (used for `echo` and in tests).
public struct ClosureHandler: Handler {
    private let body: @Sendable ([UInt8], Context) throws -> [UInt8]

    /// Wraps `body`.
    public init(_ body: @escaping @Sendable ([UInt8], Context) throws -> [UInt8]) { self.body = body }

    public func handle(_ event: [UInt8], context: Context) throws -> [UInt8] { try body(event, context) }
}

/// A handler that declares typed `Event` and `Output`; wrap it in `CodableAdapter` to register it.
public protocol CodableHandler: Sendable {
    /// The decoded event.
    associatedtype Event: Decodable
    /// The encoded result.
    associatedtype Output: Encodable
    /// Handles one decoded event.
    func handle(_ event: Event, context: Context) throws -> Output
}

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

/// Turns a `CodableHandler` into a byte `Handler`, with one decoder and encoder made at init.
public struct CodableAdapter<Wrapped: CodableHandler>: Handler {
    private let wrapped: Wrapped
    private let decoder: StrictJSONDecoder
    private let encoder: CompactJSONEncoder

    /// Wraps `handler`.
    public init(_ handler: Wrapped) {
        self.wrapped = handler
        self.decoder = JSONCoding.decoder
        self.encoder = JSONCoding.encoder
    }

    public func handle(_ event: [UInt8], context: Context) throws -> [UInt8] {
        let decoded: Wrapped.Event
        do {
            decoded = try decoder.decode(Wrapped.Event.self, from: event)
        } catch {
            throw InvalidEventError("event is not a valid \(Wrapped.Event.self): \(DecodingErrorText.describe(error))")
        }
        let output = try wrapped.handle(decoded, context: context)
        return try encoder.encode(output)
    }
}
