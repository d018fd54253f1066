import JSON
import LambdaRuntime
import LocalHosting
import RuntimeSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// The shipped executable as Lambda runs it: a separate process with `AWS_LAMBDA_RUNTIME_API` and `_HANDLER`.
final class RuntimeProcessTests: XCTestCase {
    func start(_ api: LocalRuntimeAPI, handler: String, extra: [String: String] = [:]) throws -> Subprocess {
        try Subprocess(
            path: BuiltProducts.bootstrap,
            environment: childEnvironment(
                ["AWS_LAMBDA_RUNTIME_API": api.endpoint, "_HANDLER": handler]
                    .merging(extra) { $1 }),
            captureOutput: true)
    }

    /// Its exit and what it logged (read to the end: a log that cannot be read fails the test, never reads as empty).
    func finish(_ p: Subprocess) throws -> (ProcessExit, String) {
        let err = try FileIO.readAll(fd: try XCTUnwrap(p.stderrFD))
        _ = try FileIO.readAll(fd: try XCTUnwrap(p.stdoutFD))
        return (p.wait(), err.text)
    }

    func testAThousandInvocationsInARowOnOneConnection() throws {
        let api = try LocalRuntimeAPI()
        let p = try start(api, handler: "echo")
        let ids = (0..<1000).map { api.enqueue(Array("{\"n\":\($0)}".utf8)) }
        for (i, id) in ids.enumerated() {
            let outcome = api.outcome(of: id)
            XCTAssertEqual(outcome?.body.text, "{\"n\":\(i)}")
            if outcome == nil { break }
        }
        XCTAssertEqual(api.connectionCount, 1, "one keep-alive connection for every call")
        api.stop()
        let (exit, _) = try finish(p)
        XCTAssertNotEqual(exit.code, 0)
    }

    func testUnknownHandlerIsReportedToInitErrorAndExitsNonZero() throws {
        let api = try LocalRuntimeAPI()
        let p = try start(api, handler: "nope")
        let (exit, log) = try finish(p)
        XCTAssertEqual(exit.code, 1)
        XCTAssertTrue(api.waitForInitError(timeoutMs: 1000))
        XCTAssertEqual(api.initErrors.first?.errorType, "Runtime.UnknownHandler")
        let body = try JSONValue.parse(api.initErrors[0].body)
        XCTAssertTrue(body["errorMessage"]?.stringValue?.contains("'nope'") ?? false)
        XCTAssertTrue(log.contains("\"message\":\"init failed\""), log)
    }

    func testBadConfigurationIsAnInitError() throws {
        let api = try LocalRuntimeAPI()
        let p = try start(api, handler: "health")  // no DATABASE_URL
        let (exit, _) = try finish(p)
        XCTAssertEqual(exit.code, 1)
        XCTAssertEqual(api.initErrors.first?.errorType, "Runtime.ConfigError")
        XCTAssertTrue(api.initErrors.first.map { $0.body.text.contains("DATABASE_URL") } ?? false)
    }

    func testLostRuntimeAPIExitsPromptlyWithoutBusyLooping() throws {
        let api = try LocalRuntimeAPI()
        let p = try start(api, handler: "echo")
        XCTAssertNotNil(api.invoke(Array("1".utf8)))
        let stoppedAt = Clock.monotonicNs()
        api.stop()
        let (exit, log) = try finish(p)
        XCTAssertEqual(exit.code, 1)
        XCTAssertLessThan(Clock.monotonicNs() - stoppedAt, 5_000_000_000)
        XCTAssertLessThan(exit.cpuMicroseconds, 1_000_000, "no busy loop after the connection is gone")
        XCTAssertTrue(log.contains("leaving the invocation loop"), log)
    }

    func testNothingListensAtAllExitsNonZero() throws {
        let api = try LocalRuntimeAPI()
        let endpoint = api.endpoint
        api.stop()
        usleep(50_000)
        let r = try Subprocess.run(
            path: BuiltProducts.bootstrap,
            environment: childEnvironment([
                "AWS_LAMBDA_RUNTIME_API": endpoint, "_HANDLER": "echo"
            ]))
        XCTAssertEqual(r.exit.code, 1)
    }
}
