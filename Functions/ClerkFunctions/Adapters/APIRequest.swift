import ClerkKit
import JSON
import LambdaRuntime

/// Why an HTTP event could not be read.
public enum APIRequestError: Error, CustomStringConvertible {
    /// Not an API Gateway / Function URL request.
    case notAnHTTPEvent(String)
    /// `isBase64Encoded` was set and the body is not base64.
    case invalidBase64Body

    public var description: String {
        switch self {
        case .notAnHTTPEvent(let why): "not an HTTP request event: \(why)"
        case .invalidBase64Body: "isBase64Encoded is true but the body is not base64"
        }
    }
}

/// An HTTP request from API Gateway (HTTP API payload 2.0, REST API proxy payload 1.0) or a Lambda
/// Function URL, normalised: lower-case header names, cookies split out, the body decoded to raw bytes.
public struct APIRequest: Sendable {
    /// `GET`, `POST`, ...
    public var method: String
    /// The request path.
    public var path: String
    /// Headers by lower-case name; repeated headers joined with commas, as API Gateway does (names that
    /// lower-case alike in the order of their bytes).
    public var headers: [String: String]
    /// `name=value` cookie strings.
    public var cookies: [String]
    /// The body exactly as the client sent it (base64 undone): signatures are computed over these bytes.
    public var body: [UInt8]
    /// API Gateway's request id, when present.
    public var requestId: String?
    /// What a Lambda authorizer put in the request context (payload 2.0 `authorizer.lambda`, or 1.0 `authorizer`).
    public var authorizer: JSONObject
    /// `2.0` or `1.0`.
    public var payloadVersion: String

    /// The header `name` (any case).
    public func header(_ name: String) -> String? { headers[name.lowercased()] }

    /// The cookie `name`, from `cookies` or a `Cookie` header.
    public func cookie(_ name: String) -> String? {
        for c in cookies {
            let parts = c.split(separator: "=", maxSplits: 1)
            if parts.count == 2, parts[0].trimmingWhitespace() == name {
                return parts[1].trimmingWhitespace()
            }
        }
        return nil
    }

    private struct Raw: Decodable {
        struct HTTP: Decodable {
            var method: String?
            var path: String?
        }
        struct RequestContext: Decodable {
            var requestId: String?
            var http: HTTP?
            var httpMethod: String?
            var authorizer: JSONValue?
        }
        var version: String?
        var rawPath: String?
        var cookies: [String]?
        var headers: NamedMembers<String?>?
        var multiValueHeaders: NamedMembers<[String]>?
        var requestContext: RequestContext?
        var body: String?
        var isBase64Encoded: Bool?
        var httpMethod: String?
        var path: String?
    }

    /// Reads an event; throws when it is not an HTTP request event.
    public static func decode(_ bytes: [UInt8], decoder: StrictJSONDecoder = JSONCoding.decoder) throws -> APIRequest {
        let raw: Raw
        do {
            raw = try decoder.decode(Raw.self, from: bytes)
        } catch {
            throw APIRequestError.notAnHTTPEvent(DecodingErrorText.describe(error))
        }
        let isV2 = raw.version == "2.0"
        guard let method = isV2 ? raw.requestContext?.http?.method : (raw.httpMethod ?? raw.requestContext?.httpMethod)
        else { throw APIRequestError.notAnHTTPEvent("no HTTP method") }
        // Names that lower-case alike join in the order of their bytes (API Gateway joins repeats with commas).
        var headers: [String: String] = [:]
        for (name, value) in raw.headers?.byNameBytes ?? [] {
            guard let value else { continue }
            let key = name.lowercased()
            headers[key] = headers[key].map { $0 + "," + value } ?? value
        }
        if !isV2, let multi = raw.multiValueHeaders {
            for (name, values) in multi.byNameBytes where !values.isEmpty { headers[name.lowercased()] = values.joined(separator: ",") }
        }
        var cookies = raw.cookies ?? []
        if cookies.isEmpty, let header = headers["cookie"] {
            cookies = header.split(separator: ";").map { $0.trimmingWhitespace() }
        }
        var body: [UInt8] = []
        if let text = raw.body {
            if raw.isBase64Encoded == true {
                guard let data = Base64.decode(text) else { throw APIRequestError.invalidBase64Body }
                body = data
            } else {
                body = Array(text.utf8)
            }
        }
        var authorizer = JSONObject()
        if case .object(let a)? = raw.requestContext?.authorizer {
            if isV2, case .object(let lambda)? = a["lambda"] { authorizer = lambda } else { authorizer = a }
        }
        return APIRequest(
            method: method.uppercased(), path: (isV2 ? raw.rawPath : raw.path) ?? "/", headers: headers,
            cookies: cookies, body: body, requestId: raw.requestContext?.requestId, authorizer: authorizer,
            payloadVersion: isV2 ? "2.0" : "1.0")
    }
}
