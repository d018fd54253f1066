import HTTPClient
import JSON
import LambdaRuntime
import LocalHosting
import RuntimeSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// `clerk-functions emulate`: the shipped binary run as Lambda runs it, through the RIE invoke endpoint.
final class RuntimeEmulatorTests: XCTestCase {
    func emulator(_ command: [String], function: String = "echo", timeout: Int = 3, env: [String: String] = [:]) throws -> RuntimeEmulator {
        var options = RuntimeEmulator.Options(command: command, function: function, environment: childEnvironment(env))
        options.runtimePort = 0
        options.invokePort = 0
        options.timeoutSeconds = timeout
        return try RuntimeEmulator(options: options, logger: Logger(level: .error))
    }

    /// A bootstrap written in bash: takes one event from the Runtime API, then does `then`.
    func script(_ then: String) -> [String] {
        [
            "/bin/bash", "-c",
            """
            h=${AWS_LAMBDA_RUNTIME_API%:*}; p=${AWS_LAMBDA_RUNTIME_API#*:}
            exec 3<>/dev/tcp/$h/$p
            printf 'GET /2018-06-01/runtime/invocation/next HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n\\r\\n' >&3
            read -r status <&3
            \(then)
            """
        ]
    }

    func testSuccessThroughTheInvokeEndpointAndWarmReuse() throws {
        let e = try emulator([BuiltProducts.bootstrap])
        defer { e.stop() }
        let http = try HTTPClient()
        let r = try http.send(method: "POST", url: e.invokeURL, body: Array(#"{"hello":"lambda"}"#.utf8), timeoutMs: 10_000, connectTimeoutMs: 2000)
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.body.text, #"{"hello":"lambda"}"#)
        XCTAssertEqual(e.invoke(Array("[1]".utf8)).body.text, "[1]")
        XCTAssertEqual(e.starts, 1, "the second invocation reused the warm process")
    }

    func testAFunctionErrorCarriesTheErrorHeader() throws {
        let e = try emulator(
            [BuiltProducts.bootstrap], function: "verifyToken",
            env: ["CLERK_JWT_KEY": try DevelopmentKeyPEM.publicPEM(), "DATABASE_URL": "postgresql://nobody@/x?host=/nonexistent"])
        defer { e.stop() }
        let r = e.invoke(Array(#"{"type":"TOKEN","authorizationToken":"Bearer nope","methodArn":"arn:aws:execute-api:r:1:a/s/GET/me"}"#.utf8))
        XCTAssertEqual(r.headers.first { $0.0 == "X-Amz-Function-Error" }?.1, "Unhandled")
        XCTAssertEqual(try JSONValue.parse(r.body)["errorMessage"]?.stringValue, "Unauthorized")
    }

    func testAnInitErrorIsReportedAsLambdaReportsIt() throws {
        let e = try emulator([BuiltProducts.bootstrap], function: "health")  // no DATABASE_URL
        defer { e.stop() }
        let r = e.invoke(Array("{}".utf8))
        XCTAssertEqual(try JSONValue.parse(r.body)["errorType"]?.stringValue, "Runtime.ConfigError")
        XCTAssertEqual(r.headers.first { $0.0 == "X-Amz-Function-Error" }?.1, "Unhandled")
    }

    func testATimeoutKillsAndRestartsTheProcess() throws {
        let e = try emulator(script("sleep 30"), timeout: 1)
        defer { e.stop() }
        let started = Clock.monotonicNs()
        let r = e.invoke(Array("{}".utf8))
        XCTAssertLessThan(Clock.monotonicNs() - started, 5_000_000_000)
        let error = try JSONValue.parse(r.body)
        XCTAssertEqual(error["errorType"]?.stringValue, "Sandbox.Timedout")
        XCTAssertTrue(error["errorMessage"]?.stringValue?.contains("Task timed out after 1.00 seconds") ?? false)
        _ = e.invoke(Array("{}".utf8))
        XCTAssertEqual(e.starts, 2, "a new process after the timeout")
    }

    func testACrashIsAnExitError() throws {
        let e = try emulator(script("exit 7"))
        defer { e.stop() }
        let error = try JSONValue.parse(e.invoke(Array("{}".utf8)).body)
        XCTAssertEqual(error["errorType"]?.stringValue, "Runtime.ExitError")
        XCTAssertTrue(error["errorMessage"]?.stringValue?.contains("exit status 7") ?? false)
    }

    func testPayloadLimits() throws {
        let e = try emulator([BuiltProducts.bootstrap])
        defer { e.stop() }
        let tooBig = Array("\"".utf8) + [UInt8](repeating: 0x61, count: RuntimeEmulator.maxRequestBytes) + Array("\"".utf8)
        XCTAssertEqual(e.invoke(tooBig).status, 413)
        // 6 MB in, a little more than the response limit out: echo's answer is refused by the Runtime API.
        let nearLimit = Array("\"".utf8) + [UInt8](repeating: 0x61, count: RuntimeEmulator.maxRequestBytes - 2) + Array("\"".utf8)
        XCTAssertEqual(e.invoke(nearLimit).status, 200, "at the request limit the function runs")
    }
}

/// A public key PEM for configurations that only need to parse.
enum DevelopmentKeyPEM {
    static func publicPEM() throws -> String {
        let r = try Subprocess.run(
            path: "/usr/bin/openssl", arguments: ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
            environment: ["PATH": "/usr/bin:/bin"])
        let pub = try Subprocess.run(
            path: "/usr/bin/openssl", arguments: ["pkey", "-pubout"], environment: ["PATH": "/usr/bin:/bin"],
            stdinBytes: r.stdout)
        return pub.stdout.text
    }
}
