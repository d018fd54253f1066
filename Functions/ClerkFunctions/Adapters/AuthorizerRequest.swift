import JSON
import LambdaRuntime

/// A token check as its envelope asked for it, decoded from the event: an HTTP API Lambda authorizer (payload
/// 2.0, simple response), a REST API TOKEN or REQUEST authorizer (IAM policy for `methodArn`), or a direct
/// `{"token": …}` from another service. The token is found the one way (`BearerToken`); the handler never
/// sees the envelope.
enum AuthorizerRequest: Equatable {
    /// An HTTP API authorizer, payload 2.0: answered `{"isAuthorized", "context"}`.
    case httpAPI(token: String?)
    /// A REST API authorizer (TOKEN or REQUEST): answered with an IAM policy for the stage of `methodArn`.
    case rest(token: String?, methodArn: String, shape: String)
    /// A direct invocation: answered `{"valid", …}`.
    case direct(token: String)

    /// The token, if the request carried one.
    var token: String? {
        switch self {
        case .httpAPI(let token), .rest(let token, _, _): token
        case .direct(let token): token
        }
    }

    /// The shape's name in log lines.
    var shape: String {
        switch self {
        case .httpAPI: "http-api-request"
        case .rest(_, _, let shape): shape
        case .direct: "direct"
        }
    }

    /// The request in `bytes`; throws `InvalidEventError` (a function error, naming what was expected) for any
    /// other event.
    static func decode(_ bytes: [UInt8]) throws -> AuthorizerRequest {
        let event: AuthorizerEvent
        do {
            event = try JSONCoding.decoder.decode(AuthorizerEvent.self, from: bytes)
        } catch {
            throw InvalidEventError("not an authorizer event or {\"token\": …}: \(DecodingErrorText.describe(error))")
        }
        switch (event.type, event.token) {
        case ("TOKEN", _):
            return .rest(token: BearerToken.fromAuthorization(event.authorizationToken), methodArn: event.methodArn ?? "", shape: "rest-token")
        case ("REQUEST", _):
            let token = event.requestToken()
            if event.version == "2.0" { return .httpAPI(token: token) }
            return .rest(token: token, methodArn: event.methodArn ?? "", shape: "rest-request")
        case (nil, let token?):
            return .direct(token: BearerToken.fromAuthorization(token) ?? token)
        default:
            throw InvalidEventError("expected an authorizer event (type TOKEN or REQUEST) or {\"token\": …}")
        }
    }
}

/// The members of the authorizer events and the direct request that are read.
private struct AuthorizerEvent: Decodable {
    var type: String?
    var version: String?
    var authorizationToken: String?
    var methodArn: String?
    var routeArn: String?
    var identitySource: IdentitySource?
    var headers: NamedMembers<String?>?
    var cookies: [String]?
    var token: String?

    /// `identitySource` is a list in payload 2.0 and a string in some REST events.
    enum IdentitySource: Decodable {
        case list([String])
        case single(String)
        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let l = try? c.decode([String].self) { self = .list(l) } else { self = .single(try c.decode(String.self)) }
        }
        var values: [String] {
            switch self {
            case .list(let l): l
            case .single(let s): [s]
            }
        }
    }

    /// A REQUEST event's token: the `Authorization` bearer, else the `__session` cookie, else a bearer in the
    /// identity source.
    func requestToken() -> String? {
        var lowered: [String: String] = [:]
        // Of names that lower-case alike the last in byte order (the all-lower-case spelling) is read.
        for (k, v) in headers?.byNameBytes ?? [] { if let v { lowered[k.lowercased()] = v } }
        var cookies = self.cookies ?? []
        if let header = lowered["cookie"] { cookies.append(header) }
        return BearerToken.find(authorization: lowered["authorization"], cookies: cookies)
            ?? identitySource?.values.lazy.compactMap({ BearerToken.fromAuthorization($0) }).first
    }
}
