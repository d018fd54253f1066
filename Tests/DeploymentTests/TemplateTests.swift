import ClerkFunctions
import JSON
import LambdaRuntime
import LocalHosting
import TestSupport
import XCTest
import Yams

#if canImport(Glibc)
    import Glibc
#endif

/// template.yaml deploys exactly the registered functions, and AWS's own checkers accept it.
final class TemplateTests: XCTestCase {
    var template: String { (try? FileIO.readText(BuiltProducts.packageRoot + "/template.yaml")) ?? "" }

    /// `Handler:` values of the template's functions (the template is ours: one `Handler:` line per function).
    var handlers: [String] {
        template.split(separator: "\n").compactMap { line -> String? in
            let t = line.trimmingWhitespace()
            guard t.hasPrefix("Handler:") else { return nil }
            return t.dropFirst("Handler:".count).trimmingWhitespace()
        }
    }

    func testEveryHandlerIsRegisteredAndEveryFunctionIsDeployed() {
        let registered = Set(Functions.registry.functions.map(\.name))
        let deployed = Set(handlers)
        XCTAssertFalse(deployed.isEmpty)
        XCTAssertEqual(deployed.subtracting(registered), [], "handlers that name no function")
        XCTAssertEqual(registered.subtracting(Functions.internalOnly).subtracting(deployed), [], "functions never deployed")
        XCTAssertTrue(template.contains("Runtime: provided.al2023"))
        XCTAssertTrue(template.contains("BuildMethod: makefile"))
    }

    func tool(_ name: String) -> String {
        guard let venv = Environment.process()["CLERK_TOOLS_VENV"] else {
            XCTFail("CLERK_TOOLS_VENV is not set: `make test` installs cfn-lint and SAM CLI there")
            return "/nonexistent"
        }
        return venv + "/bin/" + name
    }

    func testCfnLintReportsNothing() throws {
        let r = try Subprocess.run(
            path: tool("cfn-lint"), arguments: [BuiltProducts.packageRoot + "/template.yaml"],
            environment: childEnvironment([:]))
        XCTAssertEqual(r.exit.code, 0, "cfn-lint: \(r.stdout.text)\(r.stderr.text)")
        XCTAssertEqual(r.stdout.text, "", "no warnings either")
    }

    /// The template with the optional parameters given (a VPC, existing secrets, reserved concurrency), so the
    /// checkers see the other side of every condition's default.
    func withOptionalParameters() throws -> String {
        var text = template
        let values = [
            ("SubnetIds", "subnet-0a1b2c3d,subnet-0e1f2a3b"), ("SecurityGroupIds", "sg-0123456789abcdef0"),
            ("DatabaseSecretArn", "arn:aws:secretsmanager:eu-central-1:123456789012:secret:rds!db-1234-AbCdEf"),
            ("WebhookSecretArn", "arn:aws:secretsmanager:eu-central-1:123456789012:secret:clerk/webhook-AbCdEf"),
            ("ClerkSecretKeySecretArn", "arn:aws:secretsmanager:eu-central-1:123456789012:secret:clerk/key-AbCdEf"),
            ("ClerkMachineSecretKeySecretArn", "arn:aws:secretsmanager:eu-central-1:123456789012:secret:clerk/machine-AbCdEf"),
            ("ProfileServiceApiKeySecretArn", "arn:aws:secretsmanager:eu-central-1:123456789012:secret:profile/key-AbCdEf"),
            ("RabbitMqUrlSecretArn", "arn:aws:secretsmanager:eu-central-1:123456789012:secret:rabbitmq/url-AbCdEf"),
            ("KafkaPasswordSecretArn", "arn:aws:secretsmanager:eu-central-1:123456789012:secret:AmazonMSK_clerk-AbCdEf"),
            ("KafkaSecretKmsKeyId", "1234abcd-12ab-34cd-56ef-1234567890ab")
        ]
        for (name, value) in values {
            guard let at = text.range(of: "\n  \(name):\n"), let d = text.range(of: "Default: \"\"", range: at.upperBound..<text.endIndex) else {
                XCTFail("parameter \(name) with Default \"\" not found")
                continue
            }
            text.replaceSubrange(d, with: "Default: \"\(value)\"")
        }
        for (name, value) in [("WebhookReservedConcurrency", 20), ("VerifyTokenReservedConcurrency", 30)] {
            let unset = "  \(name):\n    Type: Number\n    Default: 0"
            XCTAssertTrue(text.contains(unset), "parameter \(name) with Default 0 not found")
            text = text.replacingAll(unset, with: "  \(name):\n    Type: Number\n    Default: \(value)")
        }
        let path = BuiltProducts.packageRoot + "/.build/template-optional-\(getpid()).yaml"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        FileIO.write(fd: fd, text)
        close(fd)
        return path
    }

    func testCheckersAcceptTheTemplateWithTheOptionalParametersGiven() throws {
        let path = try withOptionalParameters()
        defer { unlink(path) }
        let lint = try Subprocess.run(path: tool("cfn-lint"), arguments: [path], environment: childEnvironment([:]))
        XCTAssertEqual(lint.exit.code, 0, "cfn-lint: \(lint.stdout.text)\(lint.stderr.text)")
        XCTAssertEqual(lint.stdout.text, "")
        let sam = try Subprocess.run(
            path: tool("sam"), arguments: ["validate", "--lint", "--template", path, "--region", "us-east-1"],
            environment: childEnvironment(["SAM_CLI_TELEMETRY": "0", "HOME": BuiltProducts.packageRoot + "/.build"]))
        XCTAssertEqual(sam.exit.code, 0, "sam validate: \(sam.stdout.text)\(sam.stderr.text)")
    }

    /// A credential the functions can read from Secrets Manager: the `*SecretArn` parameter naming the secret, the
    /// variables its reference fills (with the JSON field picked), the plain `NoEcho` parameter it replaces, the
    /// secret the stack creates when the parameter is empty, and the handlers that read it.
    struct SecretSource {
        var parameter: String
        var variables: [(name: String, field: String?)]
        var plain: String?
        var created: String?
        var readers: Set<String>
    }

    static let webhookHandlers: Set<String> = [
        "clerkWebhook", "onUserCreated", "onUserUpdated", "onUserDeleted", "onOrganizationEvent", "onBillingEvent"
    ]

    /// Who reads what, from the code: `DatabaseSession` (every function), `WebhookConfig` (the webhook handlers),
    /// `ClerkAPIConfig` (verifyToken's profiles just in time and machine tokens, backfillClerk), `MachineTokenConfig`
    /// (verifyToken), `ProfileServiceClient` (built by every webhook handler, but used only for `user.created`, in
    /// `WebhookFunction.apply`: clerkWebhook and onUserCreated), `OutboxRelay` (every webhook handler publishes
    /// after a delivery, and publishOutbox).
    static let secretSources: [SecretSource] = [
        SecretSource(
            parameter: "DatabaseSecretArn", variables: [("DATABASE_PASSWORD", "password")], plain: nil, created: nil,
            readers: webhookHandlers.union(["verifyToken", "me", "health", "publishOutbox", "backfillClerk"])),
        SecretSource(
            parameter: "WebhookSecretArn", variables: [("PROD_CLERK_WEBHOOK_SECRET", "production"), ("DEV_CLERK_WEBHOOK_SECRET", "development")],
            plain: nil, created: "WebhookSigningSecret", readers: webhookHandlers),
        SecretSource(
            parameter: "ClerkSecretKeySecretArn", variables: [("PROD_CLERK_SECRET_KEY", "production")], plain: nil,
            created: "ClerkSecretKeySecret", readers: ["verifyToken", "backfillClerk"]),
        SecretSource(
            parameter: "ClerkMachineSecretKeySecretArn", variables: [("CLERK_MACHINE_SECRET_KEY", nil)], plain: "ClerkMachineSecretKey",
            created: nil, readers: ["verifyToken"]),
        SecretSource(
            parameter: "ProfileServiceApiKeySecretArn", variables: [("PROFILE_SERVICE_API_KEY", nil)], plain: "ProfileServiceApiKey",
            created: nil, readers: ["clerkWebhook", "onUserCreated"]),
        SecretSource(
            parameter: "RabbitMqUrlSecretArn", variables: [("RABBITMQ_URL", nil)], plain: "RabbitMqUrl", created: nil,
            readers: webhookHandlers.union(["publishOutbox"])),
        SecretSource(
            parameter: "KafkaPasswordSecretArn", variables: [("KAFKA_PASSWORD", "password")], plain: "KafkaPassword", created: nil,
            readers: webhookHandlers.union(["publishOutbox"]))
    ]

    static func arn(_ parameter: String) -> String { "arn:aws:secretsmanager:eu-central-1:123456789012:secret:\(parameter)-AbCdEf" }
    static func plainValue(_ parameter: String) -> String { "plain-value-of-\(parameter)" }

    /// Parameters that deploy every function (both queue consumers), every plain credential given, no secret ARN.
    static var plainParameters: [String: String] {
        var given = [
            "ClerkIssuer": "https://clerk.example.com", "DatabaseUrl": "postgresql://app@db.internal:5432/app",
            "EventsQueueArn": "arn:aws:sqs:eu-central-1:123456789012:clerk-events",
            "EventsBrokerArn": "arn:aws:mq:eu-central-1:123456789012:broker:clerk:b-1234",
            "ProfileServiceUrl": "https://profiles.example.com", "KafkaBrokers": "b-1.msk.example.com:9096"
        ]
        for source in secretSources { if let plain = source.plain { given[plain] = plainValue(plain) } }
        return given
    }

    func parsed(_ given: [String: String]) throws -> CloudFormationTemplate {
        try CloudFormationTemplate(text: template, parameters: given)
    }

    /// Every `*SecretArn` parameter is known to the table below it, and every `NoEcho` credential but the
    /// database URL (whose secret holds only the password) has a `*SecretArn` counterpart.
    func testEverySecretParameterAndEveryNoEchoCredentialIsAccountedFor() throws {
        let t = try parsed(Self.plainParameters)
        // The Amazon MQ event source reads EventsBrokerSecretArn, not the function (SAM grants it).
        let arnParameters = Set(t.parameterNames { _ in true }.filter { $0.hasSuffix("SecretArn") }).subtracting(["EventsBrokerSecretArn"])
        XCTAssertEqual(arnParameters, Set(Self.secretSources.map(\.parameter)))
        let noEcho = t.parameterNames { $0["NoEcho"]?.bool == true }
        for name in noEcho where name != "DatabaseUrl" {
            XCTAssertTrue(t.parameters[name + "SecretArn"] != nil, "\(name) has no \(name)SecretArn")
            XCTAssertEqual(Self.secretSources.first { $0.parameter == name + "SecretArn" }?.plain, name)
        }
        XCTAssertEqual(Set(noEcho), Set(Self.secretSources.compactMap(\.plain)).union(["DatabaseUrl"]))
    }

    /// Least privilege, both sides of every condition: with one secret ARN given at a time (and with none), exactly
    /// the functions that read that credential get its reference (`<NAME>_SECRET_ARN`, with the field) and may
    /// read that secret; the others get neither; without the ARN, its readers and only they get the plain value.
    func testExactlyTheReadersOfEachCredentialGetItsReferenceAndPermissionWhenItsArnIsGiven() throws {
        var scenarios: [(String, [String: String])] = [("no secret ARN given", Self.plainParameters)]
        for source in Self.secretSources {
            var given = Self.plainParameters
            given[source.parameter] = Self.arn(source.parameter)
            if let plain = source.plain { given[plain] = "" }
            scenarios.append((source.parameter + " given", given))
        }
        var deployedHandlers: Set<String> = []
        for (scenario, given) in scenarios {
            let t = try parsed(given)
            XCTAssertEqual(try t.failingRules(), [], scenario)
            let functions = try t.functions()
            XCTAssertTrue(Set(functions.map(\.id)).isSuperset(of: ["SqsEventsFunction", "MqEventsFunction"]), "\(scenario): the queue consumers too")
            for function in functions {
                let at = "\(scenario), \(function.id)"
                deployedHandlers.insert(function.handler)
                var grants: [String] = []
                for source in Self.secretSources {
                    let reads = source.readers.contains(function.handler)
                    let given = given[source.parameter].flatMap { $0.isEmpty ? nil : $0 }
                    let secret = given ?? source.created.map { "{Ref \($0)}" }
                    for (name, field) in source.variables {
                        let reference = function.environment[name + "_SECRET_ARN"]
                        let value = function.environment[name]
                        if reads, let secret {
                            XCTAssertEqual(reference, secret + (field.map { "#" + $0 } ?? ""), "\(at): \(name)_SECRET_ARN")
                            XCTAssertNil(value, "\(at): \(name) is set next to its reference (an init error)")
                        } else if reads {
                            XCTAssertNil(reference, "\(at): \(name)_SECRET_ARN without \(source.parameter)")
                            XCTAssertEqual(value, source.plain.map(Self.plainValue), "\(at): \(name) from the plain parameter")
                        } else {
                            XCTAssertNil(reference, "\(at) does not read \(name) but gets its reference")
                            XCTAssertNil(value, "\(at) does not read \(name) but gets its value")
                        }
                    }
                    if reads, let secret { grants.append(secret) }
                }
                XCTAssertEqual(function.readableSecrets.sorted(), grants.sorted(), "\(at): may read exactly the secrets it names")
            }
        }
        let registered = Set(Functions.registry.functions.map(\.name)).subtracting(Functions.internalOnly)
        XCTAssertEqual(deployedHandlers, registered)
        for source in Self.secretSources { XCTAssertTrue(source.readers.isSubset(of: registered), source.parameter) }
    }

    /// MSK's SASL/SCRAM secret is encrypted with a customer-managed KMS key: with its id given, exactly the
    /// functions that read the Kafka secret may decrypt with that key; without the secret or the id, none may.
    func testTheKafkaSecretsKMSKeyIsDecryptableByItsReadersOnly() throws {
        let kafka = try XCTUnwrap(Self.secretSources.first { $0.parameter == "KafkaPasswordSecretArn" })
        var given = Self.plainParameters
        given["KafkaSecretKmsKeyId"] = "1234abcd-12ab-34cd-56ef-1234567890ab"
        let withoutSecret = try parsed(given)
        for function in try withoutSecret.functions() { XCTAssertEqual(function.decryptableKeys, [], "\(function.id): no secret, no key") }
        given["KafkaPasswordSecretArn"] = Self.arn("KafkaPasswordSecretArn")
        given["KafkaPassword"] = ""
        for function in try parsed(given).functions() {
            XCTAssertEqual(
                function.decryptableKeys, kafka.readers.contains(function.handler) ? ["1234abcd-12ab-34cd-56ef-1234567890ab"] : [],
                function.id)
        }
        given["KafkaSecretKmsKeyId"] = ""
        for function in try parsed(given).functions() { XCTAssertEqual(function.decryptableKeys, [], "\(function.id): the key policy decides") }
    }

    /// With a credential's secret ARN given, its plain `NoEcho` value reaches no function's environment, even if
    /// it is given too: a condition chooses between them, and a rule refuses the pair at deploy time.
    func testNoPlainCredentialReachesAFunctionWhenItsSecretIsGiven() throws {
        var given = Self.plainParameters
        for source in Self.secretSources { given[source.parameter] = Self.arn(source.parameter) }
        let t = try parsed(given)
        for function in try t.functions() {
            for (name, value) in function.environment {
                for plain in Self.secretSources.compactMap(\.plain) {
                    XCTAssertFalse(value.contains(Self.plainValue(plain)), "\(function.id): \(name) carries \(plain) next to its secret")
                }
            }
        }
        let pairs = Self.secretSources.compactMap(\.plain)
        XCTAssertEqual(try t.failingRules(), pairs.map { "One" + $0 }.sorted(), "each pair is refused by its rule")
    }

    /// A policy the evaluator does not read (a managed policy such as `SecretsManagerReadWrite`, an inline
    /// statement, another SAM policy template) could grant any secret, so it must stop the evaluation rather than
    /// be skipped: otherwise the least-privilege test above passes a function that may read every secret.
    func testAPolicyTheEvaluatorDoesNotReadIsRefusedNotSkipped() throws {
        func template(_ policy: String) -> String {
            """
            Resources:
              F:
                Type: AWS::Serverless::Function
                Properties:
                  Handler: me
                  Policies:
            \(policy)
            """
        }
        let read = try CloudFormationTemplate(
            text: template("        - AWSSecretsManagerGetSecretValuePolicy:\n            SecretArn: arn:x"),
            parameters: [:])
        XCTAssertEqual(try read.functions().map(\.readableSecrets), [["arn:x"]])
        for policy in [
            "        - SecretsManagerReadWrite",
            "        - Statement:\n            - Effect: Allow\n              Action: secretsmanager:GetSecretValue\n              Resource: '*'",
            "        - SSMParameterReadPolicy:\n            ParameterName: clerk/*",
            "        - AWSSecretsManagerGetSecretValuePolicy:\n            SecretArn: arn:x\n          KMSDecryptPolicy:\n            KeyId: k"
        ] {
            let t = try CloudFormationTemplate(text: template(policy), parameters: [:])
            XCTAssertThrowsError(try t.functions(), "unexamined: \(policy)")
        }
    }

    /// Lambda serves one invocation per container at a time and scales out under load, each new container with
    /// a full lookup budget: `VerifyTokenReservedConcurrency` is what bounds verifyToken's containers, and so its
    /// uncached machine-token lookups at Clerk instance-wide (containers × lookups per second). 0, the default,
    /// leaves it unreserved, as `WebhookReservedConcurrency` does clerkWebhook; each reserves its own function only.
    func testReservedConcurrencyCapsVerifyTokenAndClerkWebhookOnlyWhenGiven() throws {
        func reserved(_ given: [String: String]) throws -> [String: String] {
            var out: [String: String] = [:]
            for function in try parsed(Self.plainParameters.merging(given) { $1 }).functions() { out[function.id] = function.reservedConcurrency }
            return out
        }
        // The queue consumers run the clerkWebhook handler too and stay unreserved: the parameter caps the HTTP endpoint alone.
        let singletons = ["PublishOutboxFunction": "1", "BackfillClerkFunction": "1"]
        XCTAssertEqual(try reserved([:]), singletons, "unreserved by default")
        XCTAssertEqual(try reserved(["VerifyTokenReservedConcurrency": "0", "WebhookReservedConcurrency": "0"]), singletons)
        XCTAssertEqual(try reserved(["VerifyTokenReservedConcurrency": "10"]), singletons.merging(["VerifyTokenFunction": "10"]) { $1 })
        XCTAssertEqual(
            try reserved(["VerifyTokenReservedConcurrency": "10", "WebhookReservedConcurrency": "20"]),
            singletons.merging(["VerifyTokenFunction": "10", "ClerkWebhookFunction": "20"]) { $1 })
        let t = try parsed(Self.plainParameters)
        XCTAssertEqual(
            t.parameterNames { $0["MinValue"]?.int == 0 && $0["Default"]?.int == 0 }.filter { $0.hasSuffix("ReservedConcurrency") },
            ["VerifyTokenReservedConcurrency", "WebhookReservedConcurrency"], "0 or more, 0 by default")
    }

    func testSamValidateLint() throws {
        let r = try Subprocess.run(
            path: tool("sam"),
            arguments: [
                "validate", "--lint", "--template", BuiltProducts.packageRoot + "/template.yaml",
                "--region", "us-east-1"
            ],
            environment: childEnvironment(["SAM_CLI_TELEMETRY": "0", "HOME": BuiltProducts.packageRoot + "/.build"]))
        XCTAssertEqual(r.exit.code, 0, "sam validate: \(r.stdout.text)\(r.stderr.text)")
        XCTAssertTrue((r.stdout.text + r.stderr.text).contains("is a valid SAM Template"))
    }
}
