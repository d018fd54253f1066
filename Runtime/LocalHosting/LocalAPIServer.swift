import FoundationEssentials
import JSON
import LambdaRuntime

#if canImport(Glibc)
    import Glibc
#endif

/// `serve`: the template's HTTP API on loopback with no Docker, like `sam local start-api`.
///
/// Each request becomes an HTTP API payload 2.0 event. Protected routes run their Lambda authorizer
/// first: without the identity header the answer is 401, `isAuthorized: false` gives 403, and an
/// authorizer error gives 500, as API Gateway answers. The authorizer's context reaches the route under
/// `requestContext.authorizer.lambda`. Functions run in this process through the harness, one request
/// at a time, warm after the first.
public final class LocalAPIServer: @unchecked Sendable {
    private let harness: LocalHarness
    private let routes: [SAMTemplate.Route]
    private let lock = ConditionLock()
    private var server: LoopbackHTTPServer!

    /// Serves `routes` on 127.0.0.1:`port` (0 picks one).
    public init(
        registry: FunctionRegistry, environment: Environment, routes: [SAMTemplate.Route], port: Int, logger: Logger,
        setup: LambdaSetup = .plain
    ) throws {
        harness = LocalHarness(registry: registry, environment: environment, logger: logger, setup: setup)
        self.routes = routes
        server = try LoopbackHTTPServer(port: port) { [weak self] request in
            guard let self else { return nil }
            return self.lock.withLock { self.handle(request) }
        }
    }

    /// `http://127.0.0.1:<port>`.
    public var baseURL: String { server.baseURL }

    /// Stops serving.
    public func stop() { server.stop() }

    private static func message(_ status: Int, _ text: String) -> LoopbackHTTPServer.Response {
        .json(status, #"{"message":"\#(text)"}"#)
    }

    func handle(_ request: LoopbackHTTPServer.Request) -> LoopbackHTTPServer.Response {
        let parts = request.path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = String(parts[0])
        let query = parts.count > 1 ? String(parts[1]) : ""
        guard let route = routes.first(where: { $0.method == request.method && $0.path == path }) else {
            return Self.message(404, "Not Found")
        }
        let (headers, cookies) = Self.headersAndCookies(request.headers)
        var context = Self.requestContext(route: route, path: path, headers: headers)
        // What the authorizer's event and the route's event share.
        let common: JSONObject = [
            "version": .string("2.0"), "routeKey": .string("\(route.method) \(route.path)"), "rawPath": .string(path),
            "rawQueryString": .string(query), "cookies": .array(cookies), "headers": .object(headers)
        ]
        if let authorizer = route.authorizerHandler {
            switch authorize(route, authorizer: authorizer, common: common, headers: headers, context: context) {
            case .success(let lambda): context["authorizer"] = .object(["lambda": lambda])
            case .failure(let refusal): return refusal.response
            }
        }
        var event = common
        event["requestContext"] = .object(context)
        let utf8 = String(validating: request.body, as: UTF8.self)
        event["body"] = request.body.isEmpty ? .null : .string(utf8 ?? Data(request.body).base64EncodedString())
        event["isBase64Encoded"] = .bool(utf8 == nil && !request.body.isEmpty)
        guard let out = try? harness.invoke(route.handler, event: Array(JSONValue.object(event).serialized().utf8)) else {
            return Self.message(500, "Internal Server Error")
        }
        return Self.response(from: out)
    }

    /// The request's headers for the event, repeated ones joined with commas as API Gateway does, with the
    /// `cookie` header apart, split into the event's `cookies`.
    private static func headersAndCookies(_ pairs: [(String, String)]) -> (headers: JSONObject, cookies: [JSONValue]) {
        var headers = JSONObject()
        var cookies: [JSONValue] = []
        for (name, value) in pairs {
            if name == "cookie" {
                cookies += value.split(separator: ";").map { .string($0.trimmingWhitespace()) }
            } else {
                headers[name] = .string(headers[name]?.stringValue.map { $0 + "," + value } ?? value)
            }
        }
        return (headers, cookies)
    }

    /// The event's `requestContext`, as API Gateway fills it for a request to `route`.
    private static func requestContext(route: SAMTemplate.Route, path: String, headers: JSONObject) -> JSONObject {
        [
            "accountId": .string("000000000000"), "apiId": .string("local"), "domainName": .string("127.0.0.1"),
            "http": .object([
                "method": .string(route.method), "path": .string(path), "protocol": .string("HTTP/1.1"),
                "sourceIp": .string("127.0.0.1"), "userAgent": headers["user-agent"] ?? .string("")
            ]),
            "requestId": .string(Context.makeRequestId()), "routeKey": .string("\(route.method) \(route.path)"),
            "stage": .string("$default"), "timeEpoch": .number(Double(Clock.nowMs()))
        ]
    }

    /// Why the authorizer kept a request from its route: the answer API Gateway gives.
    private struct Refusal: Error {
        let response: LoopbackHTTPServer.Response
    }

    /// Runs `route`'s Lambda authorizer (payload 2.0, simple responses): its `context` when it allows the
    /// request; 401 without the identity header, 403 when it denies, 500 when it fails.
    private func authorize(
        _ route: SAMTemplate.Route, authorizer: String, common: JSONObject, headers: JSONObject,
        context: JSONObject
    ) -> Result<JSONValue, Refusal> {
        let identityName = (route.identityHeader ?? "Authorization").lowercased()
        guard let identity = headers[identityName]?.stringValue else { return .failure(Refusal(response: Self.message(401, "Unauthorized"))) }
        var event = common
        event["type"] = .string("REQUEST")
        event["routeArn"] = .string("arn:aws:execute-api:local:000000000000:local/$default/\(route.method)\(route.path)")
        event["identitySource"] = .array([.string(identity)])
        event["requestContext"] = .object(context)
        guard let out = try? harness.invoke(authorizer, event: Array(JSONValue.object(event).serialized().utf8)),
            let decision = try? JSONValue.parse(out)
        else { return .failure(Refusal(response: Self.message(500, "Internal Server Error"))) }
        guard decision["isAuthorized"]?.boolValue == true else { return .failure(Refusal(response: Self.message(403, "Forbidden"))) }
        return .success(decision["context"] ?? .object([:]))
    }

    /// The HTTP answer for a route function's output `out` (payload 2.0: a response object, or plain JSON).
    private static func response(from out: [UInt8]) -> LoopbackHTTPServer.Response {
        guard let response = try? JSONValue.parse(out), let status = response["statusCode"]?.doubleValue else {
            // Payload 2.0 lets a function answer plain JSON: API Gateway then sends it as 200.
            return LoopbackHTTPServer.Response(status: 200, headers: [("Content-Type", "application/json")], body: out)
        }
        var outHeaders: [(String, String)] = []
        if case .object(let h)? = response["headers"] { for (k, v) in h { if let s = v.stringValue { outHeaders.append((k, s)) } } }
        if case .array(let setCookies)? = response["cookies"] {
            for c in setCookies { if let s = c.stringValue { outHeaders.append(("Set-Cookie", s)) } }
        }
        var body = Array((response["body"]?.stringValue ?? "").utf8)
        if response["isBase64Encoded"]?.boolValue == true, let text = response["body"]?.stringValue, let d = Data(base64Encoded: text) {
            body = Array(d)
        }
        // The status comes from the function's output: only a whole number in HTTP's range passes.
        guard let code = Int(exactly: status), (100...599).contains(code) else { return .json(502, #"{"message":"Internal Server Error"}"#) }
        return LoopbackHTTPServer.Response(status: code, headers: outHeaders, body: body)
    }
}
