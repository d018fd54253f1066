import JSON
import LocalHosting
import ClerkFunctions
import LambdaRuntime
import TestSupport
import XCTest

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

    func testSamValidateLint() throws {
        let r = try Subprocess.run(path: tool("sam"), arguments: ["validate", "--lint", "--template", BuiltProducts.packageRoot + "/template.yaml",
                                                                  "--region", "us-east-1"],
                                   environment: childEnvironment(["SAM_CLI_TELEMETRY": "0", "HOME": BuiltProducts.packageRoot + "/.build"]))
        XCTAssertEqual(r.exit.code, 0, "sam validate: \(r.stdout.text)\(r.stderr.text)")
        XCTAssertTrue((r.stdout.text + r.stderr.text).contains("is a valid SAM Template"))
    }
}
