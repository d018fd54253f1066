import JSON

/// Reading what a handler answered, for the unit tests.
enum UnitAnswers {
    /// An API Gateway proxy answer: its status and its body parsed.
    static func http(_ bytes: [UInt8]) throws -> (status: Int, body: JSONValue) {
        let answer = try JSONValue.parseStrict(bytes)
        guard case .number(let code)? = answer["statusCode"], let status = Int(exactly: code), case .string(let body)? = answer["body"]
        else { throw UnitAnswerError.notAnAnswer(String(decoding: bytes, as: UTF8.self)) }
        return (status, try JSONValue.parseStrict(Array(body.utf8)))
    }
}

/// An answer that is not the shape a test expects.
struct UnitAnswerError: Error {
    let answer: String
    static func notAnAnswer(_ answer: String) -> Self { Self(answer: answer) }
}
