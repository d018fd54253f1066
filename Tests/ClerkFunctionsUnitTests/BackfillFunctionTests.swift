import ClerkKit
import JSON
import LambdaRuntime
import Logging
import Store
import XCTest

@testable import ClerkFunctions

/// `backfillClerk`'s event and answer with each instance's lists scripted and the store in memory: which
/// environments it backfills, `only` and `dryRun`, the summary it answers, and the errors of an event or a
/// configuration it cannot serve. The deployed function against a real PostgreSQL and the Clerk stand-in is the
/// integration tier's (`BackfillClerkTests`, `HarnessCLITests`).
final class BackfillFunctionTests: XCTestCase {
    /// Scripted instances: the environments given a secret key, each with its own lists.
    final class ScriptedInstances: ClerkInstances, @unchecked Sendable {
        var lists: [String: ScriptedClerkLists]
        init(_ lists: [String: ScriptedClerkLists]) { self.lists = lists }
        var environments: [String] { lists.keys.sorted() }
        func lists(for environment: String) throws -> (any ClerkLists)? { lists[environment] }
    }

    let production = ScriptedClerkLists()
    let development = ScriptedClerkLists()
    let runs = InMemoryBackfillRuns()

    override func setUp() {
        production.users = [ScriptedClerkLists.user("user_p1", created: 1), ScriptedClerkLists.user("user_p2", created: 2)]
        production.organizations = [ScriptedClerkLists.organization("org_p", created: 1)]
        production.memberships["org_p"] = [ScriptedClerkLists.membership("orgmem_p", org: "org_p", user: "user_p1", created: 1)]
        development.users = [ScriptedClerkLists.user("user_d1", created: 1)]
    }

    func invoke(_ event: String, context: Context = unitContext()) throws -> JSONValue {
        let function = BackfillFunction(instances: ScriptedInstances(["production": production, "development": development]), runs: runs)
        return try JSONValue.parseStrict(function.handle(Array(event.utf8), context: context))
    }

    func testAnEventWithoutFieldsBackfillsEveryConfiguredEnvironmentAndAnswersEachSummary() throws {
        let answer = try invoke("{}")
        XCTAssertEqual(
            answer["production"],
            .object([
                "users": Self.counts(created: 2), "organizations": Self.counts(created: 1), "memberships": Self.counts(created: 1),
                "billing": Self.counts(), "billingUnavailable": .bool(false), "missingInClerk": .number(0), "complete": .bool(true)
            ]))
        XCTAssertEqual(answer["development"]?["users"], Self.counts(created: 1))
        XCTAssertEqual(answer["development"]?["complete"], .bool(true))
        XCTAssertEqual(runs.ids(.user), ["user_p1", "user_p2"])
        XCTAssertEqual(runs.ids(.user, environment: "development"), ["user_d1"])
    }

    func testAnEventThatIsNotAnObjectIsTakenAsNoFields() throws {
        for event in ["", "not json", "[]", "null", #"{"only":7,"dryRun":"yes","environment":false}"#] {
            let answer = try invoke(event)
            XCTAssertEqual(answer["production"]?["complete"], .bool(true), event)
            XCTAssertEqual(answer["development"]?["complete"], .bool(true), event)
        }
    }

    func testEnvironmentOnlyAndDryRunChooseTheWork() throws {
        let answer = try invoke(#"{"environment":"production","only":"users","dryRun":true}"#)
        XCTAssertNil(answer["development"])
        XCTAssertEqual(answer["production"]?["users"], Self.counts(created: 2))
        XCTAssertEqual(answer["production"]?["organizations"], Self.counts())
        XCTAssertTrue(development.reads.isEmpty)
        XCTAssertEqual(Set(production.reads.map(\.list)), ["users"])
        XCTAssertTrue(runs.ids(.user).isEmpty, "a dry run keeps nothing")

        let organizations = try invoke(#"{"environment":"production","only":"organizations"}"#)
        XCTAssertEqual(organizations["production"]?["memberships"], Self.counts(created: 1))
        XCTAssertTrue(runs.ids(.user).isEmpty)
        XCTAssertEqual(runs.ids(.organization), ["org_p"])
    }

    func testAnUnknownOnlyIsAnInvalidEventAndNothingIsRead() {
        XCTAssertThrowsError(try invoke(#"{"only":"sessions"}"#)) { error in
            XCTAssertEqual(
                LambdaErrorObject(error), LambdaErrorObject(errorType: "InvalidEvent", errorMessage: "only is users, organizations or billing"))
        }
        XCTAssertTrue(production.reads.isEmpty)
        XCTAssertTrue(runs.runs.isEmpty)
    }

    func testAnEnvironmentWithoutASecretKeyIsAnInvalidEvent() {
        XCTAssertThrowsError(try invoke(#"{"environment":"staging"}"#)) { error in
            XCTAssertEqual(
                LambdaErrorObject(error), LambdaErrorObject(errorType: "InvalidEvent", errorMessage: "no secret key is configured for staging"))
        }
        XCTAssertTrue(runs.runs.isEmpty)
    }

    func testADeadlineTooCloseAnswersIncompleteAndTheNextInvocationResumes() throws {
        // Less than the 2 s reserve left: nothing is read.
        let early = try invoke(#"{"environment":"production"}"#, context: unitContext(remainingMs: 1000))
        XCTAssertEqual(early["production"]?["complete"], .bool(false))
        XCTAssertTrue(production.reads.isEmpty)
        let next = try invoke(#"{"environment":"production"}"#)
        XCTAssertEqual(next["production"]?["complete"], .bool(true))
        XCTAssertEqual(runs.runs.count, 1, "the run the first invocation opened")
    }

    func testNoSecretKeyIsAnInitErrorAndEachKeyNamesItsEnvironment() throws {
        XCTAssertThrowsError(try BackfillFunction.clerkConfig(Environment([:]))) { error in
            XCTAssertEqual(LambdaErrorObject(error).errorType, "Runtime.ConfigError")
            XCTAssertTrue(LambdaErrorObject(error).errorMessage.hasPrefix("CLERK_SECRET_KEY is not set"), "\(error)")
        }
        let single = try BackfillFunction.clerkConfig(Environment(["CLERK_SECRET_KEY": "sk_test_unit", "CLERK_ENVIRONMENT": "development"]))
        XCTAssertEqual(single.environments, ["development"])
        let both = try BackfillFunction.clerkConfig(Environment(["PROD_CLERK_SECRET_KEY": "sk_live_unit", "DEV_CLERK_SECRET_KEY": "sk_test_unit"]))
        XCTAssertEqual(both.environments, ["development", "production"])
        XCTAssertNil(try both.lists(for: "staging"))
        XCTAssertNotNil(try both.lists(for: "production"))
    }

    func testTheDatabaseIsConfiguredFirst() {
        let ctx = InitContext(environment: Environment([:]), logger: Logger(label: "unit") { _ in SwiftLogNoOpLogHandler() })
        XCTAssertThrowsError(try BackfillFunction(ctx)) { error in
            XCTAssertTrue(LambdaErrorObject(error).errorMessage.hasPrefix("DATABASE_URL is not set"), "\(error)")
        }
    }

    static func counts(created: Int = 0) -> JSONValue {
        .object(["created": .number(Double(created)), "updated": .number(0), "unchanged": .number(0), "stale": .number(0), "skipped": .number(0)])
    }
}
