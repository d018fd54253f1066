import ClerkFunctions
import ClerkKit
import JSON
import LambdaRuntime
import LocalHosting
import Messaging
import TestSupport
import XCTest

/// The shipped `bootstrap` as Lambda runs it in a deployment: secrets from (a stand-in of) Secrets Manager,
/// rotated in a warm container; EMF metrics on standard output; the trace id carried to outbound calls.
final class AWSDeploymentTests: XCTestCase {
    let webhookArn = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:clerk/webhook-AbCdEf"
    var f: WebhookFixture!

    // XCTest keeps every test case alive until the run ends: release its connections and servers now.
    override func tearDown() { f = nil }

    override func setUpWithError() throws { f = try WebhookFixture() }

    func start(_ api: LocalRuntimeAPI, _ aws: AWSSecretsStandIn, _ extra: [String: String] = [:]) throws -> Subprocess {
        try Subprocess(
            path: BuiltProducts.bootstrap,
            environment: childEnvironment(
                [
                    "AWS_LAMBDA_RUNTIME_API": api.endpoint, "_HANDLER": "clerkWebhook", "AWS_LAMBDA_FUNCTION_NAME": "stack-ClerkWebhook-1A2B",
                    "DATABASE_URL": TestDatabase.url, "PROD_CLERK_WEBHOOK_SECRET_SECRET_ARN": webhookArn + "#production"
                ]
                .merging(aws.environment) { $1 }.merging(extra) { $1 }), captureOutput: true)
    }

    /// Stops the process; its standard output and standard error (either unreadable fails the test: an empty one
    /// would pass every "no secret in any log line" check).
    func finish(_ api: LocalRuntimeAPI, _ p: Subprocess) throws -> (stdout: String, stderr: String) {
        api.stop()
        let err = try FileIO.readAll(fd: try XCTUnwrap(p.stderrFD))
        let out = try FileIO.readAll(fd: try XCTUnwrap(p.stdoutFD))
        _ = p.wait()
        return (out.text, err.text)
    }

    func status(_ api: LocalRuntimeAPI, _ event: [UInt8], traceId: String? = nil) throws -> Int {
        guard let outcome = api.outcome(of: api.enqueue(event, traceId: traceId)) else { return -1 }
        return Int(try JSONValue.parse(outcome.body)["statusCode"]?.doubleValue ?? -1)
    }

    func testWebhookSecretFromSecretsManagerAndARotationPickedUpWarm() throws {
        let old = WebhookSigner.newSecret()
        let new = WebhookSigner.newSecret()
        let aws = try AWSSecretsStandIn(secrets: [webhookArn: #"{"production":"\#(old)"}"#])
        let api = try LocalRuntimeAPI()
        let p = try start(api, aws, ["CLERK_SECRETS_TTL": "0"])
        XCTAssertEqual(try status(api, f.signed(f.userBody(type: "user.created", updatedAt: 1), secret: old)), 200)
        try aws.update(secrets: [webhookArn: #"{"production":"\#(new)"}"#])
        // The refresh after this invocation reads the new value for certain (the one before may have too).
        _ = try status(api, f.signed(f.userBody(updatedAt: 2), secret: old))
        XCTAssertEqual(try status(api, f.signed(f.userBody(updatedAt: 3), secret: new)), 200, "the rotated secret verifies")
        XCTAssertEqual(try status(api, f.signed(f.userBody(updatedAt: 4), secret: old)), 401, "the old one no longer does")
        let (_, log) = try finish(api, p)
        XCTAssertTrue(aws.requests.count >= 3)
        XCTAssertTrue(aws.requests.allSatisfy { $0["verified"]?.boolValue == true }, "\(aws.requests)")
        XCTAssertTrue(log.contains("secrets changed; function rebuilt with the new values"), log)
        XCTAssertFalse(log.contains(old) || log.contains(new), "no secret in any log line")
    }

    func testAMissingSecretIsAnInitErrorNamingTheVariable() throws {
        let aws = try AWSSecretsStandIn(secrets: [:])
        let api = try LocalRuntimeAPI()
        let p = try start(api, aws)
        XCTAssertTrue(api.waitForInitError(timeoutMs: 10_000))
        let (_, log) = try finish(api, p)
        XCTAssertEqual(api.initErrors.first?.errorType, "Runtime.SecretError")
        let message = try JSONValue.parse(api.initErrors.first?.body ?? [])["errorMessage"]?.stringValue ?? ""
        XCTAssertTrue(message.contains("PROD_CLERK_WEBHOOK_SECRET_SECRET_ARN") && message.contains("ResourceNotFoundException"), message)
        XCTAssertTrue(log.contains("init failed"), log)
    }

    /// The EMF lines one webhook invocation writes, parsed as CloudWatch documents them.
    func testAWebhookInvocationWritesEmbeddedMetricFormat() throws {
        let secret = WebhookSigner.newSecret()
        let aws = try AWSSecretsStandIn(secrets: [webhookArn: #"{"production":"\#(secret)"}"#])
        let api = try LocalRuntimeAPI()
        let p = try start(api, aws, ["CLERK_METRICS_NAMESPACE": "ClerkTest"])
        XCTAssertEqual(try status(api, f.signed(f.userBody(type: "user.created", updatedAt: 1), secret: secret)), 200)
        XCTAssertEqual(try status(api, f.signed(f.userBody(updatedAt: 2), secret: WebhookSigner.newSecret())), 401)
        let (out, _) = try finish(api, p)
        let lines = try out.split(separator: "\n").map { try JSONValue.parse(Array($0.utf8)) }.filter { $0["_aws"] != nil }
        XCTAssertEqual(lines.count, 3, out)
        var seen: [String: [String: String]] = [:]
        for line in lines {
            let aws = try XCTUnwrap(line["_aws"])
            XCTAssertNotNil(aws["Timestamp"]?.doubleValue, "epoch milliseconds")
            guard case .array(let directives)? = aws["CloudWatchMetrics"], let d = directives.first else { return XCTFail("\(line)") }
            XCTAssertEqual(d["Namespace"]?.stringValue, "ClerkTest")
            guard case .array(let sets)? = d["Dimensions"], case .array(let set)? = sets.first,
                case .array(let metrics)? = d["Metrics"]
            else { return XCTFail("\(line)") }
            let names = set.compactMap(\.stringValue)
            XCTAssertEqual(names.first, "function")
            for name in names { XCTAssertNotNil(line[name]?.stringValue, "every dimension is a top-level string: \(name)") }
            XCTAssertEqual(line["function"]?.stringValue, "stack-ClerkWebhook-1A2B")
            for m in metrics {
                let name = try XCTUnwrap(m["Name"]?.stringValue)
                XCTAssertNotNil(m["Unit"]?.stringValue)
                XCTAssertNotNil(line[name]?.doubleValue, "the value is a top-level number: \(name)")
                seen[name + (line["status"]?.stringValue.map { "/" + $0 } ?? "")] =
                    Dictionary(uniqueKeysWithValues: names.map { ($0, line[$0]?.stringValue ?? "") })
            }
            XCTAssertNotNil(line["requestId"]?.stringValue)
        }
        XCTAssertNotNil(seen["ColdStart"])
        XCTAssertEqual(seen["WebhookOutcome/200"]?["eventType"], "user.created")
        XCTAssertEqual(seen["WebhookOutcome/401"]?["eventType"], "unknown", "before verification the type is not trusted")
    }

    /// The broker URL (its password in it) and the profile service's key as template.yaml passes them with
    /// `RabbitMqUrlSecretArn` and `ProfileServiceApiKeySecretArn`: plain-text secrets, read whole at init. The
    /// key reaches the profile service, the user's event reaches the broker, and neither reaches a log line.
    func testBrokerURLAndProfileServiceKeyFromSecretsManager() throws {
        let secret = WebhookSigner.newSecret()
        let brokerArn = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:clerk/rabbitmq-url-AbCdEf"
        let keyArn = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:clerk/profile-key-AbCdEf"
        let profileKey = "pk_live_" + WebhookSigner.newSecret().dropFirst("whsec_".count)
        let aws = try AWSSecretsStandIn(secrets: [webhookArn: #"{"production":"\#(secret)"}"#, brokerArn: TestBroker.url, keyArn: profileKey])
        let consumer = AMQPPublisher(url: TestBroker.url)
        while try consumer.get("user-events") != nil {}
        let profile = try ProfileReceiver()
        let api = try LocalRuntimeAPI()
        let p = try start(
            api, aws,
            [
                "PROFILE_SERVICE_URL": profile.url, "RABBITMQ_URL_SECRET_ARN": brokerArn,
                "PROFILE_SERVICE_API_KEY_SECRET_ARN": keyArn
            ])
        XCTAssertEqual(try status(api, f.signed(f.userBody(type: "user.created", updatedAt: 1), secret: secret)), 200)
        // The outbox is published after the response, before the next invocation: this answer means it is done.
        XCTAssertEqual(try status(api, f.signed(f.userBody(updatedAt: 2), secret: WebhookSigner.newSecret())), 401)
        let (out, log) = try finish(api, p)
        XCTAssertEqual(profile.received.first?.header("authorization"), "Bearer " + profileKey)
        let event = try XCTUnwrap(try consumer.get("user-events"), "published with the URL from the secret: \(log)")
        XCTAssertEqual(try JSONValue.parse(event)["type"]?.stringValue, "user.created")
        XCTAssertFalse(log.contains("outbox publish deferred"), log)
        let read = Set(aws.requests.compactMap { $0["id"]?.stringValue })
        XCTAssertTrue(read.isSuperset(of: [brokerArn, keyArn]), "\(read)")
        for value in [profileKey, TestBroker.url] {
            XCTAssertFalse(log.contains(value) || out.contains(value), "no secret in any log line")
        }
    }

    func testMetricsOffWritesNoEMFAndTheTraceIdReachesTheProfileService() throws {
        let secret = WebhookSigner.newSecret()
        let aws = try AWSSecretsStandIn(secrets: [webhookArn: #"{"production":"\#(secret)"}"#])
        let profile = try ProfileReceiver()
        let api = try LocalRuntimeAPI()
        let p = try start(api, aws, ["CLERK_METRICS": "false", "PROFILE_SERVICE_URL": profile.url])
        let trace = "Root=1-6744f2a1-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1"
        XCTAssertEqual(try status(api, f.signed(f.userBody(type: "user.created", updatedAt: 1), secret: secret), traceId: trace), 200)
        let (out, _) = try finish(api, p)
        XCTAssertFalse(out.contains("_aws"), out)
        XCTAssertEqual(profile.received.first?.header("x-amzn-trace-id"), trace)
    }
}
