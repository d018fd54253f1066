/// A Lambda function's body: raw event bytes in, raw response bytes out.
///
/// Synchronous on purpose: Lambda serves one invocation per process at a time, and everything below
/// (libcurl easy handles, libpq) blocks; an async layer would add hops and buy nothing.
public protocol Handler: Sendable {
    /// Handles one invocation; a thrown error becomes a Lambda error object.
    func handle(_ event: [UInt8], context: Context) throws -> [UInt8]
}

/// A handler made from a closure (used for `echo` and in tests).
public struct ClosureHandler: Handler {
    private let body: @Sendable ([UInt8], Context) throws -> [UInt8]

    /// Wraps `body`.
    public init(_ body: @escaping @Sendable ([UInt8], Context) throws -> [UInt8]) { self.body = body }

    public func handle(_ event: [UInt8], context: Context) throws -> [UInt8] { try body(event, context) }
}
