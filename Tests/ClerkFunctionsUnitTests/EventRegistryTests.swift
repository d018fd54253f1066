import Foundation
import LambdaRuntime
import Logging
import XCTest

@testable import ClerkFunctions

/// The registry is the one list of Clerk events: every function's accepted set, the ignored answer and the
/// README's table come from it, so nothing registered can be forgotten and nothing unregistered accepted.
final class EventRegistryTests: XCTestCase {
    func testEveryTypeIsRegisteredOnceAndClerkWebhookTakesThemAll() {
        let types = EventRegistry.routes.map(\.type)
        XCTAssertEqual(Set(types).count, types.count, "a type registered twice")
        XCTAssertEqual(EventRegistry.accepted(by: "clerkWebhook"), Set(types))
    }

    func testEachFamilyFunctionTakesEveryTypeOfItsFamily() {
        let organizations = EventRegistry.routes.filter { $0.family == .organizations }.map(\.type)
        XCTAssertEqual(EventRegistry.accepted(by: "onOrganizationEvent"), Set(organizations))
        XCTAssertEqual(organizations.count, 6)
        for function in EventRegistry.functions {
            XCTAssertFalse(function.accepts.isEmpty, function.name)
            XCTAssertTrue(function.accepts.isSubset(of: Set(EventRegistry.byType.keys)), function.name)
        }
    }

    func testEveryWebhookFunctionIsDeployedAndEveryDeployedWebhookFunctionListed() {
        let listed = Set(EventRegistry.functions.map(\.name))
        for name in listed { XCTAssertNotNil(Functions.registry[name], name) }
    }

    func testAFunctionNamingAnUnregisteredTypeFailsAtInit() {
        let ctx = InitContext(
            environment: Environment(["CLERK_WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]),
            logger: Logger(label: "unit") { _ in SwiftLogNoOpLogHandler() })
        XCTAssertThrowsError(try WebhookFunction(name: "x", accepts: ["session.created"], ctx)) { error in
            XCTAssertTrue("\(error)".contains("session.created"), "\(error)")
        }
        XCTAssertThrowsError(try WebhookFunction(name: "x", accepts: [], ctx))
    }

    func testEachRouteReadsItsResourceAndNamesItsOutboxTopic() throws {
        XCTAssertEqual(EventFamily.users.outboxTopic, "user-events")
        XCTAssertEqual(EventFamily.organizations.outboxTopic, "organization-events")
        for route in EventRegistry.routes {
            XCTAssertEqual(route.issuesAPIKey, route.type == "user.created", route.type)
        }
    }

    /// The README's table is the registry's: regenerate it from the failure message when a type is added.
    func testTheREADMEEventTableIsTheRegistrys() throws {
        let readme = try String(
            contentsOfFile: #filePath.replacingOccurrences(of: "Tests/ClerkFunctionsUnitTests/EventRegistryTests.swift", with: "README.md"),
            encoding: .utf8)
        XCTAssertTrue(readme.contains(EventRegistry.markdownTable()), "README.md must hold this table:\n" + EventRegistry.markdownTable())
    }
}
