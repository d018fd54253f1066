import JSON

/// A function's API Gateway answer as the benchmarks check it: the HTTP status and the body's JSON.
struct APIAnswer {
    var status: Int
    var body: JSONValue

    /// The answer in `out`, nil when it is not an API Gateway response with a JSON body.
    init?(_ out: [UInt8]) {
        guard let response = try? JSONValue.parse(out), let status = response["statusCode"]?.doubleValue,
            let text = response["body"]?.stringValue, let body = try? JSONValue.parse(Array(text.utf8))
        else { return nil }
        self.status = Int(status)
        self.body = body
    }

    /// `out` in a few words, for a failure's reason: `HTTP 409 user_busy`, `HTTP 200 stale`.
    static func summary(_ out: [UInt8]) -> String {
        guard let answer = APIAnswer(out) else { return "not an API Gateway answer" }
        return "HTTP \(answer.status) " + (answer.body["status"]?.stringValue ?? answer.body["error"]?.stringValue ?? "?")
    }
}
