import JSON
import LambdaRuntime
import RuntimeSupport
import XCTest

/// A typed handler: what a user of the runtime writes when bytes are not the level they think at.
struct Greeter: CodableHandler {
    struct Event: Decodable {
        var name: String
        var times: Int
    }
    struct Output: Encodable {
        var greeting: String
        var requestId: String
    }

    func handle(_ event: Event, context: Context) throws -> Output {
        Output(
            greeting: Array(repeating: "hello \(event.name)", count: max(0, min(event.times, 3))).joined(separator: ", "),
            requestId: context.requestId)
    }
}

/// `CodableAdapter` turns a typed handler into the byte `Handler` the hosts run.
final class CodableAdapterTests: XCTestCase {
    let context = Context(
        requestId: "r-1", deadlineMs: Clock.nowMs() + 1000, invokedFunctionArn: "arn", traceId: "",
        function: FunctionIdentity(name: "greeter"), logger: Logger(level: .critical))

    func testDecodesTheEventAndEncodesTheOutputWithSortedKeys() throws {
        let out = try CodableAdapter(Greeter()).handle(Array(#"{"name":"Ada","times":2}"#.utf8), context: context)
        XCTAssertEqual(out.text, #"{"greeting":"hello Ada, hello Ada","requestId":"r-1"}"#)
    }

    func testAWrongShapeIsAnInvalidEventNamingThePathNotTheValue() {
        XCTAssertThrowsError(
            try CodableAdapter(Greeter()).handle(
                Array(#"{"name":"secret-value","times":"x"}"#.utf8),
                context: context)
        ) { error in
            let object = LambdaErrorObject(error)
            XCTAssertEqual(object.errorType, "InvalidEvent")
            XCTAssertTrue(object.errorMessage.contains("times"), object.errorMessage)
            XCTAssertFalse(object.errorMessage.contains("secret-value"), "the event's values never reach the error")
        }
    }
}
