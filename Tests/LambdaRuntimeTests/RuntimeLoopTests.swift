import LambdaRuntime
import TestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// A handler failure with its own Lambda error type.
struct TeapotError: LambdaReportableError {
    var errorType: String { "Function.Teapot" }
    var errorMessage: String { "short and stout" }
}

/// What a handler saw, shared with the test thread.
final class Seen: @unchecked Sendable {
    private let lock = ConditionLock()
    private var contexts: [Context] = []
    private var traceEnv: [String?] = []
    func record(_ c: Context) {
        lock.withLock {
            contexts.append(c)
            traceEnv.append(getenv("_X_AMZN_TRACE_ID").map { String(cString: $0) })
        }
    }
    var all: [(Context, String?)] { lock.withLock { Array(zip(contexts, traceEnv)) } }
}

/// The Runtime API loop, in process, against a real HTTP Runtime API server on loopback.
final class RuntimeLoopTests: XCTestCase {
    let identity = FunctionIdentity(name: "test-fn", version: "7", memoryLimitMB: 256)
    let logger = Logger(level: .warn)

    /// Runs `serve` on a thread for `count` invocations; returns a waiter for its result.
    func serve(_ api: LocalRuntimeAPI, count: Int, pipelining: Bool = true, handler: any Handler)
        -> () -> Result<Void, RuntimeAPIError>?
    {
        let done = ConditionLock()
        final class Box: @unchecked Sendable { var result: Result<Void, RuntimeAPIError>? }
        let box = Box()
        let endpoint = api.endpoint
        let identity = identity, logger = logger
        Threads.detach {
            let result: Result<Void, RuntimeAPIError>
            do {
                let client = try RuntimeAPIClient(endpoint: endpoint, pipelining: pipelining)
                try LambdaHost.serve(handler: handler, client: client, identity: identity, logger: logger,
                                     maxInvocations: count)
                result = .success(())
            } catch let error as RuntimeAPIError {
                result = .failure(error)
            } catch {
                result = .failure(.transport("\(error)", call: "test"))
            }
            done.withLock { box.result = result }
            done.broadcast()
        }
        return {
            var r: Result<Void, RuntimeAPIError>?
            _ = done.wait(timeoutMs: 10_000) { r = box.result; return r != nil }
            return r
        }
    }

    func testSuccessPostsTheHandlersBytes() throws {
        let api = try LocalRuntimeAPI()
        let wait = serve(api, count: 2, handler: ClosureHandler { event, _ in Array("got:".utf8) + event })
        let a = api.invoke(Array("{\"a\":1}".utf8))
        let b = api.invoke(Array("[]".utf8))
        XCTAssertEqual(a?.isError, false)
        XCTAssertEqual(a?.body.text, "got:{\"a\":1}")
        XCTAssertEqual(b?.body.text, "got:[]")
        XCTAssertNotNil(try XCTUnwrap(wait()).map { _ in true })
    }

    func testThrownErrorIsPostedWithTypeHeaderAndBody() throws {
        let api = try LocalRuntimeAPI()
        let wait = serve(api, count: 1, handler: ClosureHandler { _, _ in throw TeapotError() })
        let outcome = try XCTUnwrap(api.invoke(Array("{}".utf8)))
        XCTAssertTrue(outcome.isError)
        XCTAssertEqual(outcome.errorType, "Function.Teapot")
        let body = try JSONValue.parse(outcome.body)
        XCTAssertEqual(body["errorType"]?.stringValue, "Function.Teapot")
        XCTAssertEqual(body["errorMessage"]?.stringValue, "short and stout")
        _ = wait()
    }

    func testEveryRuntimeHeaderReachesTheContextAndTraceIdIsExported() throws {
        let api = try LocalRuntimeAPI()
        let seen = Seen()
        let wait = serve(api, count: 2, handler: ClosureHandler { event, ctx in
            seen.record(ctx)
            return event
        })
        let deadline = Clock.nowMs() + 4321
        _ = api.outcome(of: api.enqueue(Array("1".utf8), deadlineMs: deadline, traceId: "Root=1-abc;Parent=def;Sampled=1",
                                        clientContext: "{\"client\":{}}", cognitoIdentity: "{\"cognitoIdentityId\":\"x\"}"))
        _ = api.invoke(Array("2".utf8), traceId: "Root=1-second")
        _ = wait()
        let all = seen.all
        XCTAssertEqual(all.count, 2)
        let (ctx, traceEnv) = all[0]
        XCTAssertEqual(ctx.requestId, "req-1")
        XCTAssertEqual(ctx.deadlineMs, deadline)
        XCTAssertGreaterThan(ctx.remainingTimeMs, 0)
        XCTAssertLessThanOrEqual(ctx.remainingTimeMs, 4321)
        XCTAssertEqual(ctx.traceId, "Root=1-abc;Parent=def;Sampled=1")
        XCTAssertEqual(traceEnv, "Root=1-abc;Parent=def;Sampled=1")
        XCTAssertEqual(ctx.invokedFunctionArn, "arn:aws:lambda:us-east-1:123456789012:function:local")
        XCTAssertEqual(ctx.clientContext, "{\"client\":{}}")
        XCTAssertEqual(ctx.cognitoIdentity, "{\"cognitoIdentityId\":\"x\"}")
        XCTAssertEqual(ctx.function.name, "test-fn")
        XCTAssertEqual(ctx.function.memoryLimitMB, 256)
        XCTAssertEqual(all[1].1, "Root=1-second", "the trace variable follows each invocation")
    }

    func testOversizedResponseGets413AndIsReportedAsAnErrorThenTheLoopGoesOn() throws {
        let api = try LocalRuntimeAPI()
        api.responseStatusOverride = 413
        let big = [UInt8](repeating: UInt8(ascii: "x"), count: 2 << 20)
        let wait = serve(api, count: 2, handler: ClosureHandler { event, _ in event == Array("\"big\"".utf8) ? big : event })
        let outcome = try XCTUnwrap(api.invoke(Array("\"big\"".utf8)))
        XCTAssertTrue(outcome.isError)
        XCTAssertEqual(outcome.errorType, "Function.ResponseSizeTooLarge")
        api.responseStatusOverride = nil
        XCTAssertEqual(api.invoke(Array("\"small\"".utf8))?.body.text, "\"small\"", "the loop serves the next event")
        XCTAssertNotNil(wait())
    }

    func testARuntimeAPI500EndsTheLoop() throws {
        let api = try LocalRuntimeAPI()
        api.responseStatusOverride = 500
        let wait = serve(api, count: 5, handler: ClosureHandler { e, _ in e })
        api.enqueue(Array("1".utf8))
        guard case .failure(.unexpectedStatus(500, call: "response"))? = wait() else {
            return XCTFail("expected the loop to end on HTTP 500")
        }
    }

    func testServerGoingAwayEndsTheLoopWithATransportError() throws {
        let api = try LocalRuntimeAPI()
        let wait = serve(api, count: 5, handler: ClosureHandler { e, _ in e })
        XCTAssertNotNil(api.invoke(Array("1".utf8)))
        api.stop()
        guard case .failure(.transport)? = wait() else { return XCTFail("expected a transport error") }
    }

    func testWithoutPipeliningTheLoopStillServesInOrder() throws {
        let api = try LocalRuntimeAPI()
        let wait = serve(api, count: 50, pipelining: false, handler: ClosureHandler { e, _ in e })
        for i in 0..<50 { XCTAssertEqual(api.invoke(Array("\(i)".utf8))?.body.text, "\(i)") }
        XCTAssertNotNil(wait())
        XCTAssertEqual(api.connectionCount, 1)
    }
}
