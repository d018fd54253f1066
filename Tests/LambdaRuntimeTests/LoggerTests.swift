import JSON
import LambdaRuntime
import LocalHosting
import RuntimeSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

final class LoggerTests: XCTestCase {
    /// Captures what a logger writes through a pipe.
    func capture(_ body: (Int32) -> Void) throws -> [String] {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        body(fds[1])
        close(fds[1])
        let text = try FileIO.readAll(fd: fds[0]).text
        close(fds[0])
        return text.split(separator: "\n").map(String.init)
    }

    func testJSONLinesCarryLevelMessageRequestIdFunctionAndFields() throws {
        let lines = try capture { fd in
            let logger = Logger(level: .info, format: .json, fd: fd).with("function", "health").with("requestId", "r-1")
            logger.debug("dropped")
            logger.info("hello \"world\"\n", ["count": .int(3), "ok": .bool(true), "why": "a\\b"])
        }
        XCTAssertEqual(lines.count, 1)
        let v = try JSONValue.parse(Array(lines[0].utf8))
        XCTAssertEqual(v["level"]?.stringValue, "INFO")
        XCTAssertEqual(v["message"]?.stringValue, "hello \"world\"\n")
        XCTAssertEqual(v["requestId"]?.stringValue, "r-1")
        XCTAssertEqual(v["function"]?.stringValue, "health")
        XCTAssertEqual(v["count"]?.doubleValue, 3)
        XCTAssertEqual(v["ok"]?.boolValue, true)
        XCTAssertEqual(v["why"]?.stringValue, "a\\b")
        XCTAssertTrue(v["timestamp"]?.stringValue?.hasSuffix("Z") ?? false)
    }

    func testEnvironmentChoosesLevelAndFormat() throws {
        let lines = try capture { fd in
            let logger = Logger(environment: Environment(["AWS_LAMBDA_LOG_LEVEL": "WARN", "AWS_LAMBDA_LOG_FORMAT": "Text"]), fd: fd)
            logger.info("no")
            logger.warn("yes", ["k": "v"])
        }
        XCTAssertEqual(lines.count, 1)
        XCTAssertTrue(lines[0].contains("WARN yes k=v"), lines[0])
        XCTAssertEqual(Logger(environment: Environment(["LOG_LEVEL": "debug"])).logLevel, .debug)
        XCTAssertEqual(Logger(environment: Environment([:])).logLevel, .info)
    }

    /// Issue 10, item 11: a value can never forge a line of its own in the Text format.
    func testTextFormatEscapesNewlinesAndControlCharacters() throws {
        let lines = try capture { fd in
            let logger = Logger(level: .info, format: .text, fd: fd)
            logger.warn("first\n2024-01-01T00:00:00.000Z ERROR forged", ["why": "a\r\nERROR x\u{1B}[31m", "k\nk": "v"])
        }
        XCTAssertEqual(lines.count, 1, "\(lines)")
        XCTAssertTrue(lines[0].contains("first\\n2024-01-01"), lines[0])
        XCTAssertTrue(lines[0].contains("why=a\\r\\nERROR x\\u001b[31m"), lines[0])
        XCTAssertTrue(lines[0].contains("k\\nk=v"), lines[0])
    }

    /// swift-log's own API writes the same JSON lines, so handlers can log as they would anywhere.
    func testSwiftLogMetadataBecomesJSONFields() throws {
        let lines = try capture { fd in
            var logger = Logger(level: .debug, format: .json, fd: fd)
            logger[metadataKey: "requestId"] = "r-2"
            logger.notice("plain", metadata: ["user": "u_1", "list": ["a", "b"]])
        }
        let v = try JSONValue.parse(Array(lines[0].utf8))
        XCTAssertEqual(v["level"]?.stringValue, "INFO")
        XCTAssertEqual(v["requestId"]?.stringValue, "r-2")
        XCTAssertEqual(v["user"]?.stringValue, "u_1")
        XCTAssertEqual(v["list"], .array([.string("a"), .string("b")]))
    }

    func testDotEnvParsing() {
        let parsed = Environment.parseDotEnv(
            """
            # comment
            export A=1
            B = "two words"
            C='x=y'
            D=value # trailing comment
            BROKEN
            """)
        XCTAssertEqual(parsed.map(\.0), ["A", "B", "C", "D"])
        XCTAssertEqual(parsed.map(\.1), ["1", "two words", "x=y", "value"])
    }
}
