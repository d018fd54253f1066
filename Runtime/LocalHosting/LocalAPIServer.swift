import JSON
import LambdaRuntime
import FoundationEssentials
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
    public init(registry: FunctionRegistry, environment: Environment, routes: [SAMTemplate.Route], port: Int, logger: Logger,
                setup: LambdaSetup = .plain) throws {
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
        var headers = JSONObject()
        var cookies: [JSONValue] = []
        for (name, value) in request.headers {
            if name == "cookie" {
                cookies += value.split(separator: ";").map { .string($0.trimmingWhitespace()) }
            } else {
                headers[name] = .string(headers[name]?.stringValue.map { $0 + "," + value } ?? value)
            }
        }
        let requestId = Context.makeRequestId()
        var context: JSONObject = [
            "accountId": .string("000000000000"), "apiId": .string("local"), "domainName": .string("127.0.0.1"),
            "http": .object(["method": .string(request.method), "path": .string(path), "protocol": .string("HTTP/1.1"),
                             "sourceIp": .string("127.0.0.1"), "userAgent": headers["user-agent"] ?? .string("")]),
            "requestId": .string(requestId), "routeKey": .string("\(route.method) \(route.path)"), "stage": .string("$default"),
            "timeEpoch": .number(Double(Clock.nowMs())),
        ]
        if let authorizer = route.authorizerHandler {
            let identityName = (route.identityHeader ?? "Authorization").lowercased()
            guard let identity = headers[identityName]?.stringValue else { return Self.message(401, "Unauthorized") }
            let authEvent: JSONValue = .object([
                "version": .string("2.0"), "type": .string("REQUEST"),
                "routeArn": .string("arn:aws:execute-api:local:000000000000:local/$default/\(route.method)\(route.path)"),
                "identitySource": .array([.string(identity)]), "routeKey": .string("\(route.method) \(route.path)"),
                "rawPath": .string(path), "rawQueryString": .string(query), "cookies": .array(cookies), "headers": .object(headers),
                "requestContext": .object(context),
            ])
            guard let out = try? harness.invoke(authorizer, event: Array(authEvent.serialized().utf8)),
                  let decision = try? JSONValue.parse(out) else { return Self.message(500, "Internal Server Error") }
            guard decision["isAuthorized"]?.boolValue == true else { return Self.message(403, "Forbidden") }
            context["authorizer"] = .object(["lambda": decision["context"] ?? .object([:])])
        }
        let utf8 = String(validating: request.body, as: UTF8.self)
        let event: JSONValue = .object([
            "version": .string("2.0"), "routeKey": .string("\(route.method) \(route.path)"), "rawPath": .string(path),
            "rawQueryString": .string(query), "cookies": .array(cookies), "headers": .object(headers),
            "requestContext": .object(context),
            "body": request.body.isEmpty ? .null : .string(utf8 ?? Data(request.body).base64EncodedString()),
            "isBase64Encoded": .bool(utf8 == nil && !request.body.isEmpty),
        ])
        guard let out = try? harness.invoke(route.handler, event: Array(event.serialized().utf8)) else {
            return Self.message(500, "Internal Server Error")
        }
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
