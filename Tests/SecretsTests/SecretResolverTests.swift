import JSON
import LambdaRuntime
import Secrets
import TestSupport
import XCTest

/// `<NAME>_SECRET_ARN` / `<NAME>_PARAMETER` against a stand-in of Secrets Manager and Parameter Store that
/// checks every request's Signature V4 with botocore.
final class SecretResolverTests: XCTestCase {
    let webhookArn = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:clerk/webhook-AbCdEf"
    let databaseArn = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:rds!db-1234-XyZ"

    func resolver(_ aws: AWSSecretsStandIn, _ extra: [String: String]) throws -> SecretResolver {
        try SecretResolver(environment: Environment(aws.environment.merging(extra) { $1 }), ttlSeconds: 300)
    }

    func testFillsEveryReferenceWithRequestsBotocoreVerifies() throws {
        let aws = try AWSSecretsStandIn(
            secrets: [
                webhookArn: #"{"production":"whsec_prod","development":"whsec_dev"}"#,
                databaseArn: #"{"username":"app","password":"p@ss word","port":5432}"#
            ],
            parameters: ["/clerk/secret-key": "sk_test_abc"])
        let env = try resolver(
            aws,
            [
                "PROD_CLERK_WEBHOOK_SECRET_SECRET_ARN": webhookArn + "#production",
                "DEV_CLERK_WEBHOOK_SECRET_SECRET_ARN": webhookArn + "#development",
                "DATABASE_PASSWORD_SECRET_ARN": databaseArn + "#password",
                "DATABASE_PORT_SECRET_ARN": databaseArn + "#port",
                "CLERK_SECRET_KEY_PARAMETER": "/clerk/secret-key",
                "UNRELATED": "kept"
            ]
        ).resolve()
        XCTAssertEqual(env["PROD_CLERK_WEBHOOK_SECRET"], "whsec_prod")
        XCTAssertEqual(env["DEV_CLERK_WEBHOOK_SECRET"], "whsec_dev")
        XCTAssertEqual(env["DATABASE_PASSWORD"], "p@ss word")
        XCTAssertEqual(env["DATABASE_PORT"], "5432")
        XCTAssertEqual(env["CLERK_SECRET_KEY"], "sk_test_abc", "decrypted: WithDecryption was sent")
        XCTAssertEqual(env["UNRELATED"], "kept")
        let requests = aws.requests
        XCTAssertEqual(requests.count, 3, "each secret read once, however many of its fields are used: \(requests)")
        for r in requests {
            XCTAssertEqual(r["verified"]?.boolValue, true, "botocore computes the same signature: \(r)")
            let signed = r["signedHeaders"].map { "\($0)" } ?? ""
            XCTAssertTrue(signed.contains("x-amz-security-token"), "the session token is signed: \(signed)")
        }
    }

    func testAStandInThatIsGivenOtherCredentialsRefusesTheSignature() throws {
        // The check is real: a wrong secret key gives AWS's own refusal, named with the variable.
        let aws = try AWSSecretsStandIn(secrets: [webhookArn: "whsec_x"])
        var env = aws.environment
        env["AWS_SECRET_ACCESS_KEY"] = "not-the-key"
        env["CLERK_WEBHOOK_SECRET_SECRET_ARN"] = webhookArn
        XCTAssertThrowsError(try SecretResolver(environment: Environment(env), ttlSeconds: 300).resolve()) { error in
            XCTAssertEqual((error as? SecretError)?.variable, "CLERK_WEBHOOK_SECRET_SECRET_ARN")
            XCTAssertTrue("\(error)".contains("InvalidSignatureException"), "\(error)")
        }
        XCTAssertEqual(aws.requests.first?["verified"]?.boolValue, false)
    }

    func testMissingAndForbiddenSecretsNameTheVariableNeverAValue() throws {
        let aws = try AWSSecretsStandIn(
            secrets: [webhookArn: #"{"production":"whsec_secretvalue"}"#],
            parameters: ["/denied": "hidden-value"], denied: ["/denied"])
        let cases: [(String, String, String)] = [
            ("CLERK_WEBHOOK_SECRET_SECRET_ARN", webhookArn + "-gone", "ResourceNotFoundException"),
            ("CLERK_SECRET_KEY_PARAMETER", "/nowhere", "ParameterNotFound"),
            ("CLERK_SECRET_KEY_PARAMETER", "/denied", "AccessDeniedException"),
            ("CLERK_WEBHOOK_SECRET_SECRET_ARN", webhookArn + "#staging", "no field staging"),
            ("CLERK_WEBHOOK_SECRET_SECRET_ARN", webhookArn + "#", "nothing follows #")
        ]
        for (variable, value, reason) in cases {
            XCTAssertThrowsError(try resolver(aws, [variable: value]).resolve(), variable) { error in
                let text = "\(error)"
                XCTAssertTrue(text.hasPrefix(variable + ":"), text)
                XCTAssertTrue(text.contains(reason), text)
                XCTAssertFalse(text.contains("whsec_secretvalue") || text.contains("hidden-value"), text)
                XCTAssertEqual((error as? LambdaReportableError)?.errorType, "Runtime.SecretError")
            }
        }
    }

    func testReferencesThatCannotWorkAreRefusedBeforeAnyRequest() throws {
        let base = ["AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "k", "AWS_REGION": "eu-west-1"]
        let refused: [([String: String], String)] = [
            (["X_SECRET_ARN": "arn:1", "X": "direct"], "X is set too"),
            (["X_SECRET_ARN": "arn:1", "X_PARAMETER": "/x"], "names X too"),
            (["X_PARAMETER": "/x", "AWS_SECRET_ACCESS_KEY": ""], "AWS_SECRET_ACCESS_KEY is not set"),
            (["X_PARAMETER": "/x", "AWS_ENDPOINT_URL_SSM": "http://ssm.example.com"], "loopback only"),
            (["X_PARAMETER": "/x", "AWS_ENDPOINT_URL_SSM": "file:///etc/passwd"], "not an https:// URL")
        ]
        for (extra, reason) in refused {
            XCTAssertThrowsError(try SecretResolver(environment: Environment(base.merging(extra) { $1 }), ttlSeconds: 300), reason) { error in
                XCTAssertTrue("\(error)".contains(reason), "\(error)")
            }
        }
        // Nothing referenced: nothing needed, not even credentials.
        XCTAssertTrue(try SecretResolver(environment: Environment(["DATABASE_URL": "postgresql://x"]), ttlSeconds: 300).isEmpty)
    }

    func testATTLOutsideItsRangeIsRefusedNamingTheVariable() throws {
        for text in ["soon", "-1", "86401", "1e3", " 5"] {
            XCTAssertThrowsError(try SecretResolver.ttlSeconds(Environment(["APP_TTL": text]), variable: "APP_TTL"), text) { error in
                XCTAssertEqual("\(error)", "APP_TTL: seconds, 0 to 86400")
            }
        }
        XCTAssertEqual(try SecretResolver.ttlSeconds(Environment([:]), variable: "APP_TTL"), 300, "unset: the default")
        XCTAssertEqual(try SecretResolver.ttlSeconds(Environment(["APP_TTL": "0"]), variable: "APP_TTL"), 0)
        XCTAssertEqual(try SecretResolver.ttlSeconds(Environment(["APP_TTL": "86400"]), variable: "APP_TTL"), 86_400)
    }
}
