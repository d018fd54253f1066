import ClerkKit
import JSON
import LambdaRuntime
import LocalHosting
import TestSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// The `clerk-functions` command line, as a person runs it.
final class HarnessCLITests: XCTestCase {
    func run(_ args: [String], stdin: String? = nil, env: [String: String] = [:])
        throws -> (code: Int32, out: String, err: String)
    {
        let r = try Subprocess.run(
            path: BuiltProducts.clerkFunctions, arguments: args,
            environment: childEnvironment(env), stdinBytes: stdin.map { Array($0.utf8) })
        return (r.exit.code, r.stdout.text, r.stderr.text)
    }

    /// `--sub` is one JSON string however it is spelled: it cannot add claims to the token it signs.
    func testSignTokenQuotesWhatItIsGiven() throws {
        let keyPath = "/tmp/clerk-cli-test-\(getpid()).pem"
        let fd = open(keyPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        XCTAssertGreaterThanOrEqual(fd, 0)
        FileIO.write(fd: fd, try DevelopmentKey().privatePEM)
        close(fd)
        defer { unlink(keyPath) }
        let sub = #"user_x","org_role":"org:admin"#
        let r = try run(["sign-token", "--key", keyPath, "--sub", sub])
        XCTAssertEqual(r.code, 0, r.err)
        let parts = r.out.trimmingWhitespace().split(separator: ".")
        XCTAssertEqual(parts.count, 3)
        let payload = try JSONValue.parse(Base64.decode(String(parts[1])) ?? [])
        XCTAssertEqual(payload["sub"], .string(sub))
        XCTAssertNil(payload["org_role"])
    }

    func testInvokeHealthWithTheSampleEvent() throws {
        let r = try run(
            ["invoke", "health", "--event", BuiltProducts.packageRoot + "/events/health.get.json"],
            env: ["DATABASE_URL": TestDatabase.url])
        XCTAssertEqual(r.code, 0, r.err)
        XCTAssertEqual(try JSONValue.parse(Array(r.out.utf8))["statusCode"]?.doubleValue, 200)
    }

    func testInvokeReadsTheEventFromStandardInput() throws {
        let r = try run(["invoke", "echo", "-"], stdin: "{\"from\":\"stdin\"}")
        XCTAssertEqual(r.code, 0)
        XCTAssertEqual(r.out, "{\"from\":\"stdin\"}\n")
    }

    func testBadJSONGetsAClearErrorAndExitCode2() throws {
        let r = try run(["invoke", "echo", "--event", "-"], stdin: "{not json")
        XCTAssertEqual(r.code, 2)
        let error = try JSONValue.parse(Array(r.out.utf8))
        XCTAssertEqual(error["errorType"]?.stringValue, "InvalidRequestContent")
        XCTAssertTrue(error["errorMessage"]?.stringValue?.contains("Could not parse request body into json") ?? false)
    }

    func testAFunctionErrorPrintsTheLambdaErrorObjectAndExits1() throws {
        let r = try run(["invoke", "health", "-"], stdin: "{}")  // no DATABASE_URL: init error
        XCTAssertEqual(r.code, 1)
        XCTAssertEqual(try JSONValue.parse(Array(r.out.utf8))["errorType"]?.stringValue, "Runtime.ConfigError")
    }

    func testUnknownFunctionAndUsageErrors() throws {
        let unknown = try run(["invoke", "nope", "-"], stdin: "{}")
        XCTAssertEqual(unknown.code, 2)
        XCTAssertTrue(unknown.out.contains("Runtime.UnknownHandler"))
        let bad = try run(["frobnicate"])
        XCTAssertEqual(bad.code, 2)
        XCTAssertTrue(bad.err.contains("Unexpected argument 'frobnicate'"), bad.err)
    }

    func testListNamesEveryFunction() throws {
        let r = try run(["list"])
        XCTAssertEqual(r.code, 0)
        for name in ["echo", "health"] { XCTAssertTrue(r.out.contains(name), r.out) }
    }

    func testEnvFileIsLoadedAndTheEnvironmentWins() throws {
        let path = "/tmp/clerk-functions-test-\(Clock.monotonicNs()).env"
        FileIO.write(
            fd: open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600), "DATABASE_URL=postgresql://nobody@/x?host=/nonexistent\nDATABASE_CONNECT_TIMEOUT=1\n"
        )
        defer { unlink(path) }
        let fromFile = try run(["--env-file", path, "invoke", "health", "-"], stdin: "{}")
        XCTAssertEqual(try JSONValue.parse(Array(fromFile.out.utf8))["statusCode"]?.doubleValue, 503)
        let envWins = try run(["--env-file", path, "invoke", "health", "-"], stdin: "{}", env: ["DATABASE_URL": TestDatabase.url])
        XCTAssertEqual(try JSONValue.parse(Array(envWins.out.utf8))["statusCode"]?.doubleValue, 200)
    }

    /// `outbox requeue` puts set-aside rows back, filtered by queue (or Kafka topic, with `KAFKA_TOPIC_PREFIX`) and by
    /// when they were set aside (a duration back from now, or an ISO-8601 time), and prints one JSON line.
    func testOutboxRequeueCommand() throws {
        let db = try TestDatabase.connect()
        try TestDatabase.reset(db)
        try db.query(
            """
            INSERT INTO outbox (queue, payload, set_aside_at, last_error) VALUES
              ('user-events', '{"clerkUserId":"user_old"}', now() - interval '3 hours', 'too large'),
              ('user-events', '{"clerkUserId":"user_new"}', now() - interval '10 minutes', 'too large'),
              ('api-key-mappings', '{"op":"set","key":"api_key:x","value":"user_new"}', now() - interval '10 minutes', 'too large')
            """)
        func setAside() throws -> [String] {
            try db.query("SELECT coalesce(payload->>'clerkUserId', payload->>'key') AS who FROM outbox WHERE set_aside_at IS NOT NULL ORDER BY id")
                .map { try $0.decode("who", as: String.self) }
        }
        let env = ["DATABASE_URL": TestDatabase.url, "KAFKA_TOPIC_PREFIX": "prod."]
        let recent = try run(["outbox", "requeue", "--topic", "prod.user-events", "--since", "1h"], env: env)
        XCTAssertEqual(recent.code, 0, recent.err)
        XCTAssertEqual(recent.out, #"{"moved":{},"requeued":{"user-events":1},"resent":{}}"# + "\n")
        XCTAssertEqual(try setAside(), ["user_old", "api_key:x"])
        let none = try run(["outbox", "requeue", "--topic", "user-events", "--since", "2030-01-01T00:00:00Z"], env: env)
        XCTAssertEqual(none.out, #"{"moved":{},"requeued":{},"resent":{}}"# + "\n", none.err)
        let rest = try run(["outbox", "requeue", "--since", "2020-01-01T00:00:00+02:00"], env: env)
        XCTAssertEqual(rest.out, #"{"moved":{},"requeued":{"api-key-mappings":1,"user-events":1},"resent":{}}"# + "\n", rest.err)
        XCTAssertEqual(try setAside(), [])
        for bad in ["yesterday", "2h30", "-1h", "99999999999d", "2020-13-01", "2020-01-01T00:00:00"] {
            let r = try run(["outbox", "requeue", "--since", bad], env: env)
            XCTAssertEqual(r.code, 2, "\(bad): \(r.out) \(r.err)")
            XCTAssertTrue(r.err.contains("--since"), "\(bad): \(r.err)")
        }
        XCTAssertEqual(try run(["outbox", "requeue", "--topic", ""], env: env).code, 2)
    }

    func testMigrateCommand() throws {
        let r = try run(["migrate"], env: ["DATABASE_URL": TestDatabase.url])
        XCTAssertEqual(r.code, 0, r.err)
        XCTAssertTrue(r.out.contains("schema"), r.out)
    }
}
