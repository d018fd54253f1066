import ClerkFunctions
import ClerkKit
import JSON
import LambdaRuntime
import LocalHosting
import TestSupport
import XCTest

/// `Functions.setup`: the application's settings for starting a function (metrics, secrets and their TTL),
/// with the variables' names in every refusal.
final class FunctionsSetupTests: XCTestCase {
    let webhookArn = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:clerk/webhook-AbCdEf"

    func testMetricsOptionsAndTheirRefusalsNameTheVariables() throws {
        XCTAssertEqual(try Functions.setup.metricsOptions(Environment([:])), try MetricsOptions(enabled: true, namespace: "ClerkFunctions"))
        XCTAssertEqual(
            try Functions.setup.metricsOptions(Environment(["CLERK_METRICS": "Off", "CLERK_METRICS_NAMESPACE": "App/Prod"])),
            try MetricsOptions(enabled: false, namespace: "App/Prod"))
        let refused: [([String: String], String)] = [
            (["CLERK_METRICS": "maybe"], "CLERK_METRICS is invalid: expected true or false"),
            (
                ["CLERK_METRICS_NAMESPACE": "AWS/Lambda"],
                "CLERK_METRICS_NAMESPACE is invalid: letters, digits and . - _ / # : space, up to 255, not AWS/"
            )
        ]
        for (env, message) in refused {
            XCTAssertThrowsError(try Functions.setup.metricsOptions(Environment(env)), message) { error in
                XCTAssertEqual(LambdaErrorObject(error), LambdaErrorObject(errorType: "Runtime.ConfigError", errorMessage: message))
            }
        }
    }

    func testABadSecretsTTLIsAnInitErrorNamingTheVariable() throws {
        let harness = LocalHarness(
            registry: Functions.registry,
            environment: Environment([
                "CLERK_SECRETS_TTL": "soon", "DATABASE_URL": "postgresql://127.0.0.1:1/none"
            ]), logger: Logger(level: .critical), setup: Functions.setup)
        XCTAssertThrowsError(try harness.invoke("echo", event: Array("{}".utf8))) { error in
            XCTAssertEqual(
                (error as? HarnessError)?.errorObject,
                LambdaErrorObject(errorType: "Runtime.SecretError", errorMessage: "CLERK_SECRETS_TTL: seconds, 0 to 86400"))
        }
    }

    func testTheLocalHarnessReadsTheDeployedSecretsAsBootstrapDoes() throws {
        // `clerk-functions invoke` against the deployed configuration: the webhook secret lives only in the
        // stand-in, so a delivery signed with it is accepted only if the harness read the reference.
        let fixture = try WebhookFixture()
        let secret = WebhookSigner.newSecret()
        let aws = try AWSSecretsStandIn(secrets: [webhookArn: #"{"production":"\#(secret)"}"#])
        var env = aws.environment
        env["DATABASE_URL"] = TestDatabase.url
        env["PROD_CLERK_WEBHOOK_SECRET_SECRET_ARN"] = webhookArn + "#production"
        let harness = LocalHarness(registry: Functions.registry, environment: Environment(env), setup: Functions.setup)
        let body = fixture.userBody(type: "user.created", id: "user_from_secret", updatedAt: 1)
        for _ in 0..<2 {
            let response = try JSONValue.parse(harness.invoke("onUserCreated", event: fixture.signed(body, secret: secret)))
            XCTAssertEqual(response["statusCode"]?.doubleValue, 200, response.serialized())
        }
        XCTAssertNotNil(try fixture.user("user_from_secret"))
        XCTAssertEqual(aws.requests.count, 1, "read once for the harness, not per invocation")
    }

}
