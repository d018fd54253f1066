import JSON
import LocalHosting
import ClerkFunctions
import LambdaRuntime
import TestSupport
import XCTest
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
        let r = try Subprocess.run(path: tool("cfn-lint"), arguments: [BuiltProducts.packageRoot + "/template.yaml"],
                                   environment: childEnvironment([:]))
        XCTAssertEqual(r.exit.code, 0, "cfn-lint: \(r.stdout.text)\(r.stderr.text)")
        XCTAssertEqual(r.stdout.text, "", "no warnings either")
    }

    /// The template with the optional parameters given (a VPC, existing secrets, reserved concurrency), so the
    /// checkers see the other side of every condition's default.
    func withOptionalParameters() throws -> String {
        var text = template
        let values = [("SubnetIds", "subnet-0a1b2c3d,subnet-0e1f2a3b"), ("SecurityGroupIds", "sg-0123456789abcdef0"),
                      ("DatabaseSecretArn", "arn:aws:secretsmanager:eu-central-1:123456789012:secret:rds!db-1234-AbCdEf"),
                      ("WebhookSecretArn", "arn:aws:secretsmanager:eu-central-1:123456789012:secret:clerk/webhook-AbCdEf"),
                      ("ClerkSecretKeySecretArn", "arn:aws:secretsmanager:eu-central-1:123456789012:secret:clerk/key-AbCdEf")]
        for (name, value) in values {
            guard let at = text.range(of: "\n  \(name):\n"), let d = text.range(of: "Default: \"\"", range: at.upperBound..<text.endIndex) else {
                XCTFail("parameter \(name) with Default \"\" not found")
                continue
            }
            text.replaceSubrange(d, with: "Default: \"\(value)\"")
        }
        text = text.replacingAll("  WebhookReservedConcurrency:\n    Type: Number\n    Default: 0", with: "  WebhookReservedConcurrency:\n    Type: Number\n    Default: 20")
        XCTAssertTrue(text.contains("Default: 20"))
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
        let sam = try Subprocess.run(path: tool("sam"), arguments: ["validate", "--lint", "--template", path, "--region", "us-east-1"],
                                     environment: childEnvironment(["SAM_CLI_TELEMETRY": "0", "HOME": BuiltProducts.packageRoot + "/.build"]))
        XCTAssertEqual(sam.exit.code, 0, "sam validate: \(sam.stdout.text)\(sam.stderr.text)")
    }

    /// Least privilege: a function reads exactly the secrets its environment names, and names none it cannot read.
    func testEachFunctionMayReadExactlyTheSecretsItNames() {
        // Resources are the lines indented by exactly two spaces; a block runs to the next one.
        var blocks: [String] = []
        for line in template.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("  "), !line.hasPrefix("   "), line.count > 2 { blocks.append("") }
            if !blocks.isEmpty { blocks[blocks.count - 1] += line.trimmingWhitespace().isEmpty ? "" : String(line.dropFirst(2)) + "\n" }
        }
        blocks = blocks.filter { $0.contains("Type: AWS::Serverless::Function") }
        XCTAssertFalse(blocks.isEmpty)
        for block in blocks {
            let name = String(block.prefix { $0 != ":" })
            let webhook = block.contains("PROD_CLERK_WEBHOOK_SECRET_SECRET_ARN")
            XCTAssertEqual(webhook, block.contains("SecretArn: !If [CreateWebhookSecret"), name)
            let key = block.contains("PROD_CLERK_SECRET_KEY_SECRET_ARN")
            XCTAssertEqual(key, block.contains("SecretArn: !If [CreateClerkSecretKeySecret"), name)
            // Every function stores or reads data, so each may read the database's secret (when there is one).
            XCTAssertTrue(block.contains("SecretArn: !Ref DatabaseSecretArn"), name)
        }
    }

    func testSamValidateLint() throws {
        let r = try Subprocess.run(path: tool("sam"), arguments: ["validate", "--lint", "--template", BuiltProducts.packageRoot + "/template.yaml",
                                                                  "--region", "us-east-1"],
                                   environment: childEnvironment(["SAM_CLI_TELEMETRY": "0", "HOME": BuiltProducts.packageRoot + "/.build"]))
        XCTAssertEqual(r.exit.code, 0, "sam validate: \(r.stdout.text)\(r.stderr.text)")
        XCTAssertTrue((r.stdout.text + r.stderr.text).contains("is a valid SAM Template"))
    }
}
