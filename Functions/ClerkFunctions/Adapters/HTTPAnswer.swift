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

/// A success answer: a status and an Encodable body.
public struct JSONAnswer<Body: Encodable & Sendable>: HTTPAnswer {
    /// The status code.
    public var status: Int
    /// The body.
    public var body: Body

    /// `body` answered with `status`.
    public init(_ status: Int, _ body: Body) {
        self.status = status
        self.body = body
    }
}

/// A refusal whose code is not one of `FailureCode`'s (a token check's own reason, say), with its status.
public struct Refusal: Error, HTTPAnswer, Equatable {
    /// The status code.
    public var status: Int
    /// `{"error", "message"}`.
    public var body: ErrorBody

    /// A refusal with `status`, a stable `code` and a message for a person.
    public init(_ status: Int, _ code: String, _ message: String) {
        self.status = status
        body = ErrorBody(error: code, message: message)
    }
}
