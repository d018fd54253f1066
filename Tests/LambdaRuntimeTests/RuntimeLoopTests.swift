import JSON
import LambdaRuntime
import LocalHosting
import RuntimeSupport
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

/// The Runtime API loop, in process, through the libcurl client against a real HTTP Runtime API server on loopback.
final class RuntimeLoopTests: XCTestCase {
    let identity = FunctionIdentity(name: "test-fn", version: "7", memoryLimitMB: 256)
    let logger = Logger(level: .warning)

    /// Runs `serve` on a thread for `count` invocations; returns a waiter for its result.
    func serve(_ api: LocalRuntimeAPI, count: Int, handler: any Handler)
        -> () -> Result<Void, RuntimeAPIError>?
    {
        let done = ConditionLock()
        final class Box: @unchecked Sendable { var result: Result<Void, RuntimeAPIError>? }
        let box = Box()
        let endpoint = api.endpoint
        let identity = identity
        let logger = logger
        Threads.detach {
            let result: Result<Void, RuntimeAPIError>
            do {
                let client = try CurlRuntimeAPIClient(endpoint: endpoint)
                try LambdaHost.serve(
                    handler: handler, client: client, identity: identity, logger: logger,
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
            _ = done.wait(timeoutMs: 30_000) {
                r = box.result
                return r != nil
            }
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
        let wait = serve(
            api, count: 2,
            handler: ClosureHandler { event, ctx in
                seen.record(ctx)
                return event
            })
        let deadline = Clock.nowMs() + 4321
        _ = api.outcome(
            of: api.enqueue(
                Array("1".utf8), deadlineMs: deadline, traceId: "Root=1-abc;Parent=def;Sampled=1",
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

    func testAThousandInvocationsShareOneConnection() throws {
        let api = try LocalRuntimeAPI()
        let wait = serve(api, count: 1000, handler: ClosureHandler { e, _ in e })
        api.enqueueRepeating(Array("{\"n\":1}".utf8), count: 1000)
        XCTAssertTrue(api.waitForCompleted(1000, timeoutMs: 60_000))
        XCTAssertNotNil(wait())
        XCTAssertEqual(api.connectionCount, 1, "keep-alive: one TCP connection for the whole process")
    }

    /// Events of 0 B, 2 KiB (servers switch to chunked around there), 64 KiB ± 1 and 5 MiB, each sent with
    /// Content-Length and chunked, arrive byte for byte.
    func testEventsOfEverySizeArriveWhole() throws {
        let sizes = [0, 2048, 65535, 65536, 65537, 5 << 20]
        for chunked in [false, true] {
            let api = try LocalRuntimeAPI()
            api.chunkedEvents = chunked
            let wait = serve(
                api, count: sizes.count,
                handler: ClosureHandler { event, _ in
                    // Answer with the size and a digest-like sum, not the whole event, to test what arrived.
                    var sum: UInt64 = 0
                    for (i, b) in event.enumerated() { sum = sum &* 31 &+ UInt64(b) &+ UInt64(i & 0xFF) }
                    return Array("\(event.count):\(sum)".utf8)
                })
            for size in sizes {
                var body = [UInt8](repeating: 0, count: size)
                for i in 0..<size { body[i] = UInt8(truncatingIfNeeded: i &* 131 &+ 7) }
                var sum: UInt64 = 0
                for (i, b) in body.enumerated() { sum = sum &* 31 &+ UInt64(b) &+ UInt64(i & 0xFF) }
                let outcome = api.invoke(body, timeoutMs: 30_000)
                XCTAssertEqual(outcome?.body.text, "\(size):\(sum)", "size \(size), chunked \(chunked)")
            }
            XCTAssertNotNil(wait())
        }
    }

    func testASlowNextIsWaitedForWithoutATimeout() throws {
        let api = try LocalRuntimeAPI()
        api.nextDelayMs = 3000
        let wait = serve(api, count: 1, handler: ClosureHandler { e, _ in e })
        XCTAssertEqual(api.invoke(Array("\"late\"".utf8), timeoutMs: 20_000)?.body.text, "\"late\"")
        XCTAssertNotNil(wait())
    }

    func testResultsAreNotSentWithExpectContinue() throws {
        let api = try LocalRuntimeAPI()
        let big = [UInt8](repeating: UInt8(ascii: "y"), count: 1 << 20)
        let wait = serve(api, count: 1, handler: ClosureHandler { _, _ in big })
        XCTAssertEqual(api.invoke(Array("{}".utf8))?.body.count, big.count)
        XCTAssertNotNil(wait())
        XCTAssertNil(api.lastResultHeaders.first { $0.0 == "expect" }, "no Expect: 100-continue round trip")
    }

    /// Work scheduled with `afterResponse` runs once the answer is posted and before the next `GET`.
    func testWorkAfterTheResponseRunsBetweenThePostAndTheNextGet() throws {
        let api = try LocalRuntimeAPI()
        final class Observed: @unchecked Sendable {
            let lock = ConditionLock()
            var completedWhenRun: [Int] = []
            var nextsWhenRun: [Int] = []
        }
        let seen = Observed()
        let wait = serve(
            api, count: 2,
            handler: ClosureHandler { event, ctx in
                ctx.afterResponse {
                    // The runtime posted this invocation's answer synchronously before running this work.
                    let completed = api.completed
                    let nexts = api.nextRequests
                    seen.lock.withLock {
                        seen.completedWhenRun.append(completed)
                        seen.nextsWhenRun.append(nexts)
                    }
                }
                return event
            })
        XCTAssertEqual(api.invoke(Array("1".utf8))?.body.text, "1")
        XCTAssertEqual(api.invoke(Array("2".utf8))?.body.text, "2")
        XCTAssertNotNil(wait())
        seen.lock.withLock {
            XCTAssertEqual(seen.completedWhenRun, [1, 2], "the answer was posted before the work ran")
            XCTAssertEqual(seen.nextsWhenRun, [1, 2], "the next GET came only after the work")
        }
    }
}
