import JSON
import LambdaRuntime
import LocalHosting
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// EMF lines: the request id comes from the invocation's context, the namespace and on/off from the
/// application's `MetricsOptions`.
final class MetricsTests: XCTestCase {
    let identity = FunctionIdentity(name: "fake")
    let logger = Logger(level: .critical)

    /// The lines `body` writes through a sink of its own (into a pipe), parsed.
    func lines(_ options: MetricsOptions, _ body: (Metrics) throws -> Void) throws -> [JSONValue] {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        defer { close(fds[0]) }
        let sink = Metrics()
        sink.configure(options, function: "fake", fd: fds[1])
        do {
            try body(sink)
        } catch {
            close(fds[1])
            throw error
        }
        close(fds[1])
        return try String(decoding: FileIO.readAll(fd: fds[0]), as: UTF8.self).split(separator: "\n")
            .map { try JSONValue.parse(Array($0.utf8)) }
    }

    func invocation(_ id: String) -> Invocation {
        Invocation(requestId: id, deadlineMs: Clock.nowMs() + 10_000, traceId: "Root=1-\(id)", event: Array("{}".utf8))
    }

    func testEveryLineCarriesTheRequestIdOfItsOwnInvocationEvenAfterTheResponse() throws {
        let client = InMemoryRuntimeAPIClient(events: [invocation("r-1"), invocation("r-2")])
        let found = try lines(MetricsOptions(enabled: true, namespace: "Test")) { sink in
            try LambdaHost.serve(
                handler: ClosureHandler { e, ctx in
                    ctx.metrics.count("Handled")
                    ctx.afterResponse { ctx.metrics.emit([("Later", 2, .milliseconds)], dimensions: [("kind", "after")]) }
                    return e
                }, client: client, identity: identity, logger: logger, maxInvocations: 2, metrics: sink)
        }
        let summary = found.map { line -> String in
            let name = ["ColdStart", "Handled", "Later"].first { line[$0] != nil } ?? "?"
            return "\(name) \(line["requestId"]?.stringValue ?? "none") \(line["function"]?.stringValue ?? "none")"
        }
        XCTAssertEqual(summary, ["ColdStart r-1 fake", "Handled r-1 fake", "Later r-1 fake", "Handled r-2 fake", "Later r-2 fake"])
        guard case .array(let directives)? = found.first?["_aws"]?["CloudWatchMetrics"] else { return XCTFail("\(found)") }
        XCTAssertEqual(directives.first?["Namespace"]?.stringValue, "Test")
    }

    func testAContextMadeOutsideTheLoopWritesItsOwnRequestId() throws {
        let found = try lines(MetricsOptions(enabled: true, namespace: "Test")) { sink in
            let context = Context(
                requestId: "local-1", deadlineMs: Clock.nowMs() + 1000, invokedFunctionArn: "arn",
                traceId: "Root=1", function: identity, logger: logger, metrics: sink)
            context.metrics.count("Local", 3, dimensions: [("outcome", "")])
        }
        let line = try XCTUnwrap(found.first)
        XCTAssertEqual(found.count, 1)
        XCTAssertEqual(line["requestId"]?.stringValue, "local-1")
        XCTAssertEqual(line["Local"]?.doubleValue, 3)
        XCTAssertEqual(line["outcome"]?.stringValue, "none", "an empty dimension value would make CloudWatch refuse the line")
    }

    func testOptionsOffWriteNothing() throws {
        let found = try lines(MetricsOptions(enabled: false, namespace: "Test")) { sink in
            InvocationMetrics(sink: sink, requestId: "r").count("Anything")
        }
        XCTAssertEqual(found.count, 0)
        let unset = try lines(.off) { sink in InvocationMetrics(sink: sink, requestId: "r").count("Anything") }
        XCTAssertEqual(unset.count, 0)
    }

    func testNamespacesCloudWatchWouldDropAreRefused() throws {
        for bad in ["", "AWS/Lambda", "name\u{0}", "ünicode", "new\nline", String(repeating: "n", count: 256)] {
            XCTAssertThrowsError(try MetricsOptions(enabled: true, namespace: bad), bad.debugDescription) { error in
                XCTAssertEqual((error as? MetricsNamespaceError)?.reason, "letters, digits and . - _ / # : space, up to 255, not AWS/")
            }
        }
        for good in ["App", "my-app/prod_1.2#x: y", String(repeating: "n", count: 255)] {
            XCTAssertEqual(try MetricsOptions(enabled: true, namespace: good).namespace, good)
        }
    }
}
