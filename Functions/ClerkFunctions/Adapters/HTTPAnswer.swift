import JSON

/// An outcome that carries its own HTTP status and JSON body, as Hummingbird's `HTTPResponseError` does: a
/// handler returns (or throws) one, and the adapter of the event that asked writes it in that event's shape.
/// No status is ever chosen by looking at a body or a code's text.
public protocol HTTPAnswer: Sendable {
    /// The body's type; always written as JSON through the JSON module.
    associatedtype Body: Encodable
    /// The status code.
    var status: Int { get }
    /// The body.
    var body: Body { get }
}

/// The `{"error": code, "message": message}` body every refusal and failure has.
public struct ErrorBody: Encodable, Sendable, Equatable {
    /// A stable code (`malformed_request`, `database_unavailable`, …).
    public var error: String
    /// What happened, for a person; never a secret, token, signature or body.
    public var message: String
}
