import JSON
import LambdaRuntime
import LocalHosting
import RuntimeSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// Tests/AWSStandIn/aws_standin.py on a free loopback port: Secrets Manager and Parameter Store as AWS
/// answers them, checking every request's Signature V4 with botocore (from the tests' venv).
public final class AWSSecretsStandIn {
    /// Credentials the stand-in accepts (the function's "role credentials" in the tests).
    public let accessKey = "AKIAIOSFODNN7EXAMPLE"
    public let secretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    public let sessionToken = "IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCXVzLWVhc3QtMSJHMEUCIQ+token/with=chars"
    public let region = "eu-central-1"
    /// `http://127.0.0.1:<port>`: give it as `AWS_ENDPOINT_URL_SECRETS_MANAGER` and `AWS_ENDPOINT_URL_SSM`.
    public private(set) var url = ""
    private let process: Subprocess
    private let dataPath: String
    private let logPath: String

    /// Starts the stand-in serving `secrets` (id → SecretString) and `parameters` (name → value).
    public init(secrets: [String: String] = [:], parameters: [String: String] = [:], denied: [String] = []) throws {
        guard let venv = Environment.process()["CLERK_TOOLS_VENV"] else {
            throw StandInError.didNotStart("CLERK_TOOLS_VENV is not set: scripts/test.sh installs botocore there")
        }
        let stamp = "\(getpid())-\(Clock.monotonicNs())"
        dataPath = "/tmp/clerk-aws-standin-\(stamp).json"
        logPath = "/tmp/clerk-aws-standin-\(stamp).log"
        process = try Subprocess(
            path: venv + "/bin/python",
            arguments: [
                BuiltProducts.packageRoot + "/Tests/AWSStandIn/aws_standin.py", "--data", dataPath, "--log", logPath,
                "--access-key", accessKey, "--secret-key", secretKey, "--session-token", sessionToken, "--region", region
            ], environment: childEnvironment([:]), captureOutput: true)
        try update(secrets: secrets, parameters: parameters, denied: denied)
        let port = try Self.readLine(process.stdoutFD ?? -1)
        guard let n = Int(port), n > 0 else {
            process.kill()
            _ = process.wait()
            let err = (try? FileIO.readAll(fd: process.stderrFD ?? -1)) ?? []
            throw StandInError.didNotStart(String(decoding: err, as: UTF8.self))
        }
        url = "http://127.0.0.1:\(n)"
    }

    deinit {
        process.kill()
        _ = process.wait()
        unlink(dataPath)
        unlink(logPath)
    }

    /// Why the stand-in is not there.
    public enum StandInError: Error { case didNotStart(String) }

    /// Replaces what the stand-in serves (rotation).
    public func update(secrets: [String: String], parameters: [String: String] = [:], denied: [String] = []) throws {
        let object: JSONValue = .object([
            "secrets": .object(JSONObject(secrets.mapValues { JSONValue.string($0) })),
            "parameters": .object(JSONObject(parameters.mapValues { JSONValue.string($0) })),
            "denied": .array(denied.map { .string($0) })
        ])
        let tmp = dataPath + ".new"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        FileIO.write(fd: fd, object.serialized())
        close(fd)
        rename(tmp, dataPath)
    }

    /// The environment a function needs to read from the stand-in: credentials, region, both endpoints.
    public var environment: [String: String] {
        [
            "AWS_ACCESS_KEY_ID": accessKey, "AWS_SECRET_ACCESS_KEY": secretKey, "AWS_SESSION_TOKEN": sessionToken,
            "AWS_REGION": region, "AWS_ENDPOINT_URL_SECRETS_MANAGER": url, "AWS_ENDPOINT_URL_SSM": url
        ]
    }

    /// Every request so far: `target`, `verified`, `why`, `signedHeaders`, `id`. The log is written from the first
    /// request on (none yet: no file); a line that does not parse is kept as `null`, so that it fails whatever
    /// is asserted of it rather than drop out of the list.
    public var requests: [JSONValue] {
        guard FileIO.exists(logPath) else { return [] }
        return logText(logPath).split(separator: "\n").map { (try? JSONValue.parse(Array($0.utf8))) ?? .null }
    }

    private static func readLine(_ fd: Int32) throws -> String {
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while read(fd, &byte, 1) == 1 {
            if byte == 0x0A { break }
            bytes.append(byte)
        }
        return String(decoding: bytes, as: UTF8.self).trimmingWhitespace()
    }
}
