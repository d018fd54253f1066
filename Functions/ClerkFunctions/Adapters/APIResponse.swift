import JSON

/// An HTTP response in the shape both API Gateway payload versions and Function URLs accept.
public struct APIResponse: Encodable, Sendable {
    /// The status code.
    public var statusCode: Int
    /// Response headers.
    public var headers: [String: String]
    /// The body text.
    public var body: String
    /// Always false: bodies here are JSON text.
    public var isBase64Encoded = false

    /// The response that writes `answer`: its status, its body as JSON.
    public init<A: HTTPAnswer>(_ answer: A) {
        let text = (try? String(decoding: JSONCoding.encoder.encode(answer.body), as: UTF8.self)) ?? "{}"
        self.init(statusCode: answer.status, headers: ["content-type": "application/json"], body: text)
    }

    /// A response from its parts.
    public init(statusCode: Int, headers: [String: String], body: String) {
        self.statusCode = statusCode
        self.headers = headers
        self.body = body
    }

    /// The encoded event response.
    public func encoded() -> [UInt8] {
        (try? JSONCoding.encoder.encode(self)) ?? Array("{\"statusCode\":500}".utf8)
    }
}
