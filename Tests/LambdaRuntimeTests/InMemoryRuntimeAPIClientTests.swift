import LambdaRuntime
import RuntimeSupport
import XCTest

/// An in-memory Runtime API: scripted events in, every call recorded (the loop's unit tests).
final class InMemoryRuntimeAPIClient: RuntimeAPIClient, @unchecked Sendable {
    enum Call: Equatable {
        case next
        case response(String, [UInt8])
        case error(String, String)
        case initError(String)
    }

    var events: [Invocation]
    var calls: [Call] = []
    /// Status answered to posts of results, in order (then 202).
    var responseStatuses: [Int] = []
    var errorStatuses: [Int] = []

    init(events: [Invocation]) { self.events = events }

    func next() throws(RuntimeAPIError) -> Invocation {
        calls.append(.next)
        guard !events.isEmpty else { throw .transport("no more events", call: "next") }
        return events.removeFirst()
    }

    func postResponse(requestId: String, body: [UInt8]) throws(RuntimeAPIError) -> Int {
        calls.append(.response(requestId, body))
        let status = responseStatuses.isEmpty ? 202 : responseStatuses.removeFirst()
        if status >= 500 { throw .unexpectedStatus(status, call: "response") }
        return status
    }

    func postError(requestId: String, error: LambdaErrorObject) throws(RuntimeAPIError) -> Int {
        calls.append(.error(requestId, error.errorType))
        let status = errorStatuses.isEmpty ? 202 : errorStatuses.removeFirst()
        if status >= 500 { throw .unexpectedStatus(status, call: "error") }
        return status
    }

    func postInitError(_ error: LambdaErrorObject) throws(RuntimeAPIError) -> Int {
        calls.append(.initError(error.errorType))
        return 202
    }
}

/// The invocation loop's decisions, without a network.
final class InMemoryRuntimeAPIClientTests: XCTestCase {
    let identity = FunctionIdentity(name: "fake")
    let logger = Logger(level: .critical)

    func invocation(_ id: String, _ body: String) -> Invocation {
        Invocation(requestId: id, deadlineMs: Clock.nowMs() + 10_000, traceId: "Root=1-\(id)", event: Array(body.utf8))
    }

    func testSuccessAndErrorsArePostedInOrder() throws {
        struct Boom: LambdaReportableError {
            var errorType: String { "Function.Boom" }
            var errorMessage: String { "no" }
        }
        let client = InMemoryRuntimeAPIClient(events: [invocation("a", "1"), invocation("b", "boom"), invocation("c", "3")])
        try LambdaHost.serve(
            handler: ClosureHandler { e, _ in
                if e == Array("boom".utf8) { throw Boom() }
                return e
            }, client: client, identity: identity, logger: logger, maxInvocations: 3)
        XCTAssertEqual(
            client.calls,
            [
                .next, .response("a", Array("1".utf8)), .next, .error("b", "Function.Boom"),
                .next, .response("c", Array("3".utf8))
            ])
    }

    func test413IsReportedAsResponseSizeTooLargeAndA403OnThatReportIsTolerated() throws {
        let client = InMemoryRuntimeAPIClient(events: [invocation("a", "big"), invocation("b", "small")])
        client.responseStatuses = [413]
        client.errorStatuses = [403]
        try LambdaHost.serve(
            handler: ClosureHandler { e, _ in e }, client: client, identity: identity, logger: logger,
            maxInvocations: 2)
        XCTAssertEqual(
            client.calls,
            [
                .next, .response("a", Array("big".utf8)), .error("a", "Function.ResponseSizeTooLarge"),
                .next, .response("b", Array("small".utf8))
            ])
    }

    func testA500EndsTheLoop() {
        let client = InMemoryRuntimeAPIClient(events: [invocation("a", "1"), invocation("b", "2")])
        client.responseStatuses = [500]
        XCTAssertThrowsError(
            try LambdaHost.serve(
                handler: ClosureHandler { e, _ in e }, client: client, identity: identity,
                logger: logger, maxInvocations: 2))
        XCTAssertEqual(client.calls.count, 2, "no next after a 500")
    }

    func testWorkAfterTheResponseRunsBeforeTheNextGetEvenWhenTheHandlerThrew() throws {
        final class Order: @unchecked Sendable { var steps: [String] = [] }
        let order = Order()
        let client = InMemoryRuntimeAPIClient(events: [invocation("a", "1"), invocation("b", "fail")])
        struct Fail: Error {}
        try LambdaHost.serve(
            handler: ClosureHandler { e, ctx in
                ctx.afterResponse { order.steps.append("work \(ctx.requestId) after \(client.calls.count) calls") }
                if e == Array("fail".utf8) { throw Fail() }
                return e
            }, client: client, identity: identity, logger: logger, maxInvocations: 2)
        // a: next, response (2 calls) then work; b: next, error (4 calls) then work.
        XCTAssertEqual(order.steps, ["work a after 2 calls", "work b after 4 calls"])
    }
}
