import LambdaRuntime
import LocalHosting
import XCTest

/// The application's hook into starting a function: the harness builds through it and runs a handler's
/// upkeep between invocations, as the Lambda host does.
final class LambdaSetupTests: XCTestCase {
    final class Steps: @unchecked Sendable { var list: [String] = [] }

    struct Upkept: UpkeepHandler {
        let steps: Steps
        let value: String
        func handle(_ event: [UInt8], context: Context) throws -> [UInt8] {
            steps.list.append("handle \(context.requestId)")
            context.afterResponse { steps.list.append("after \(context.requestId)") }
            return Array(value.utf8)
        }
        func betweenInvocations() { steps.list.append("upkeep") }
    }

    func registry(_ steps: Steps) -> FunctionRegistry {
        FunctionRegistry([
            LambdaFunction(name: "f", summary: "", accepts: []) { ctx in
                Upkept(steps: steps, value: ctx.environment["VALUE"] ?? "unset")
            }
        ])
    }

    func testTheHarnessBuildsThroughTheSetupAndRunsUpkeepAfterTheWorkAfterTheResponse() throws {
        let steps = Steps()
        let setup = LambdaSetup(
            metricsOptions: { _ in .off },
            makeHandler: { env, _, build in
                steps.list.append("prepare")
                var prepared = env
                prepared.values["VALUE"] = "prepared-" + (env["VALUE"] ?? "")
                return try build(prepared)
            })
        let harness = LocalHarness(
            registry: registry(steps), environment: Environment(["VALUE": "raw"]),
            logger: Logger(level: .critical), setup: setup)
        XCTAssertEqual(try harness.invoke("f", event: Array("{}".utf8), requestId: "a"), Array("prepared-raw".utf8))
        _ = try harness.invoke("f", event: Array("{}".utf8), requestId: "b")
        XCTAssertEqual(steps.list, ["prepare", "handle a", "after a", "upkeep", "handle b", "after b", "upkeep"])
    }

    func testASetupThatThrowsIsAnInitErrorWithItsMessage() throws {
        struct Refused: LambdaReportableError {
            var errorType: String { "Runtime.ConfigError" }
            var errorMessage: String { "APP_SETTING is invalid" }
        }
        let setup = LambdaSetup(metricsOptions: { _ in .off }, makeHandler: { _, _, _ in throw Refused() })
        let harness = LocalHarness(
            registry: registry(Steps()), environment: Environment([:]), logger: Logger(level: .critical),
            setup: setup)
        XCTAssertThrowsError(try harness.invoke("f", event: Array("{}".utf8))) { error in
            XCTAssertEqual(
                (error as? HarnessError)?.errorObject,
                LambdaErrorObject(
                    errorType: "Runtime.ConfigError",
                    errorMessage: "APP_SETTING is invalid"))
        }
    }

    func testPlainBuildsFromTheEnvironmentAsItIsWithMetricsOff() throws {
        XCTAssertEqual(try LambdaSetup.plain.metricsOptions(Environment([:])), .off)
        let harness = LocalHarness(registry: registry(Steps()), environment: Environment(["VALUE": "raw"]), logger: Logger(level: .critical))
        XCTAssertEqual(try harness.invoke("f", event: Array("{}".utf8)), Array("raw".utf8))
    }
}
