import LambdaRuntime
import XCTest

@testable import ClerkFunctions

/// One reader for every setting: a typo is an init error that names the variable (never its value, which may
/// be a secret), not a silent default.
final class SettingsTests: XCTestCase {
    func testTyposInNumbersAndFlagsAreInitErrorsNamingTheVariable() throws {
        let cases: [(String, String, (Environment) throws -> Void)] = [
            ("OUTBOX_BATCH_SIZE", "5OO", { _ = try OutboxRelay(environment: $0) }),
            ("DATABASE_CONNECT_TIMEOUT", "5s", { _ = try DatabaseConfig(environment: $0) }),
            ("PROFILE_SERVICE_TIMEOUT_MS", "fast", { _ = try ProfileServiceClient(settings: Settings($0)) }),
            ("CLERK_WEBHOOK_MAX_BYTES", "1MB", { _ = try WebhookConfig(environment: $0) }),
            ("CLERK_WEBHOOK_TOLERANCE", "-1", { _ = try WebhookConfig(environment: $0) }),
            (
                "CLERK_QUEUE_REQUIRE_SIGNATURE", "nope",
                { env in
                    _ = try DeliveryGate(config: try WebhookConfig(environment: env), settings: Settings(env), logger: unitContext().logger)
                }
            )
        ]
        for (name, value, read) in cases {
            let env = Environment([
                "DATABASE_URL": "postgresql://x@/y", "RABBITMQ_URL": "amqp://guest:guest@127.0.0.1:1",
                "PROFILE_SERVICE_URL": "http://127.0.0.1:1",
                "CLERK_WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", name: value
            ])
            XCTAssertThrowsError(try read(env), name) { error in
                XCTAssertTrue("\(error)".contains(name), "\(name): \(error)")
                XCTAssertFalse("\(error)".contains(value), "\(name): the value is not echoed")
            }
        }
    }

    func testUnsetOrEmptyTakesTheDefaultAndWhitespaceAndCaseAreForgiven() throws {
        let settings = Settings(Environment(["A": " 42 ", "B": "", "F": " Yes "]))
        XCTAssertEqual(try settings.integer("A", default: 1, in: 1...100), 42)
        XCTAssertEqual(try settings.integer("B", default: 7, in: 1...100), 7)
        XCTAssertEqual(try settings.integer("C", default: 9, in: 1...100), 9)
        XCTAssertTrue(try settings.flag("F", default: false))
        XCTAssertThrowsError(try settings.integer("A", default: 1, in: 1...10), "out of range")
    }

    func testTheClerkEnvironmentIsOneOfTwo() throws {
        XCTAssertEqual(try Settings(Environment([:])).clerkEnvironment(), .production)
        XCTAssertEqual(try Settings(Environment(["CLERK_ENVIRONMENT": "development"])).clerkEnvironment(), .development)
        XCTAssertThrowsError(try Settings(Environment(["CLERK_ENVIRONMENT": "Development"])).clerkEnvironment(), "not another spelling")
        XCTAssertThrowsError(try Settings(Environment(["CLERK_ENVIRONMENT": "prod"])).clerkEnvironment())
    }
}
