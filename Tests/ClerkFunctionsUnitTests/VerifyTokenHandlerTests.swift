import ClerkKit
import DevTools
import JSON
import LambdaRuntime
import Store
import XCTest

@testable import ClerkFunctions

/// `verifyToken`'s decisions with the users in memory, Clerk's Backend API scripted and session tokens signed by a
/// key made for the run: the answer in each of its three shapes (HTTP API simple response, REST policy or
/// `Unauthorized`, direct), and how a verified subject becomes a row. The integration tier runs the same paths
/// against PostgreSQL, a key server and the Backend API stand-in (`VerifyTokenTests`, `VerifyTokenClerkFillTests`).
final class VerifyTokenHandlerTests: XCTestCase {
    let users = InMemoryUsers()
    let clerk = ScriptedClerkDirectory()
    static let methodArn = "arn:aws:execute-api:eu-west-1:123456789012:api1/prod/GET/me"

    func function(directory: Bool = false) throws -> VerifyTokenFunction {
        let verifier = try UnitTokens.verifier()
        let none = Environment([:])
        return VerifyTokenFunction(
            verifier: verifier, users: users, directory: directory ? clerk : nil,
            guards: try OrganizationGuards(environment: none),
            machine: try MachineTokenConfig(environment: none, api: try ClerkAPIConfig(environment: none), keys: verifier))
    }

    /// The three shapes of the question, for `token`.
    enum Shape: CaseIterable { case httpAPI, restToken, restRequest, direct }

    static func event(_ shape: Shape, token: String?) -> String {
        let bearer = token.map { "Bearer " + $0 }
        switch shape {
        case .httpAPI:
            let headers = bearer.map { #"{"authorization":"\#($0)"}"# } ?? "{}"
            return #"{"version":"2.0","type":"REQUEST","routeArn":"\#(methodArn)","identitySource":[],"headers":\#(headers)}"#
        case .restToken:
            return #"{"type":"TOKEN","methodArn":"\#(methodArn)"\#(bearer.map { #","authorizationToken":"\#($0)""# } ?? "")}"#
        case .restRequest:
            let headers = bearer.map { #"{"Authorization":"\#($0)"}"# } ?? "{}"
            return #"{"type":"REQUEST","methodArn":"\#(methodArn)","headers":\#(headers)}"#
        case .direct:
            return #"{"token":"\#(token ?? "")"}"#
        }
    }

    func ask(_ shape: Shape, token: String?, directory: Bool = false) throws -> JSONValue {
        try JSONValue.parseStrict(function(directory: directory).handle(Array(Self.event(shape, token: token).utf8), context: unitContext()))
    }

    /// The answer is a refusal in every shape, each in its own form, naming `reason` where the shape has room for it.
    func assertDenied(_ token: String?, reason: String, directory: Bool = false, file: StaticString = #filePath, line: UInt = #line) throws {
        let simple = try ask(.httpAPI, token: token, directory: directory)
        XCTAssertEqual(simple, .object(["isAuthorized": .bool(false), "context": .object(["reason": .string(reason)])]), file: file, line: line)
        for shape in [Shape.restToken, .restRequest] {
            XCTAssertThrowsError(try ask(shape, token: token, directory: directory), "\(shape)", file: file, line: line) { error in
                XCTAssertEqual((error as? LambdaReportableError)?.errorMessage, "Unauthorized", "\(shape)", file: file, line: line)
            }
        }
        let direct = try ask(.direct, token: token, directory: directory)
        XCTAssertEqual(direct, .object(["valid": .bool(false), "reason": .string(reason)]), file: file, line: line)
    }

    func testAKnownUsersSessionIsAllowedInEveryShape() throws {
        let user = users.add("user_1")
        let token = try UnitTokens.session("user_1")
        let simple = try ask(.httpAPI, token: token)
        XCTAssertEqual(simple["isAuthorized"], .bool(true))
        XCTAssertEqual(simple["context"]?["userId"]?.stringValue, user.id.postgresText)
        XCTAssertEqual(simple["context"]?["clerkUserId"]?.stringValue, "user_1")
        XCTAssertEqual(simple["context"]?["tokenType"]?.stringValue, "session_token")
        XCTAssertEqual(simple["context"]?["environment"]?.stringValue, "production")
        XCTAssertEqual(simple["context"]?["sessionId"]?.stringValue?.hasPrefix("sess_"), true)
        for shape in [Shape.restToken, .restRequest] {
            let policy = try ask(shape, token: token)
            XCTAssertEqual(policy["principalId"]?.stringValue, "user_1", "\(shape)")
            let statement = try XCTUnwrap(policy["policyDocument"]?["Statement"], "\(shape)")
            XCTAssertEqual(
                statement,
                .array([
                    .object([
                        "Action": .string("execute-api:Invoke"), "Effect": .string("Allow"),
                        "Resource": .string("arn:aws:execute-api:eu-west-1:123456789012:api1/prod/*")
                    ])
                ]))
            XCTAssertEqual(policy["context"]?["userId"]?.stringValue, user.id.postgresText, "\(shape)")
        }
        let direct = try ask(.direct, token: token)
        XCTAssertEqual(direct["valid"], .bool(true))
        XCTAssertEqual(direct["userId"]?.stringValue, user.id.postgresText)
        XCTAssertEqual(direct["claims"]?["sub"]?.stringValue, "user_1")
        XCTAssertEqual(direct["claims"]?["iss"]?.stringValue, UnitTokens.issuer)
        XCTAssertTrue(users.created.isEmpty)
    }

    func testAnUnknownUserGetsAMinimalRowJustInTimeOnce() throws {
        let token = try UnitTokens.session("user_new")
        let first = try ask(.direct, token: token)
        let again = try ask(.httpAPI, token: token)
        XCTAssertEqual(users.created, ["user_new"])
        XCTAssertEqual(first["userId"], again["context"]?["userId"])
        XCTAssertEqual(first["userId"]?.stringValue, InMemoryEventStore.uuid(1).postgresText)
        XCTAssertTrue(users.applied.isEmpty, "no Backend API configured: nothing to fill it with")
    }

    func testClerkFillsAUserTheDatabaseDoesNotKnowThroughTheWebhooksSyncFunction() throws {
        clerk.answers["user_new"] = try ScriptedClerkDirectory.found("user_new", email: "grace@example.com", updatedAt: 42)
        let answer = try ask(.direct, token: try UnitTokens.session("user_new"), directory: true)
        XCTAssertEqual(answer["valid"], .bool(true))
        let change = try XCTUnwrap(users.applied.first)
        XCTAssertEqual(change.kind, .updated)
        XCTAssertEqual(change.deliveryId, "jit:user_new:42")
        XCTAssertEqual(change.environment, "production")
        XCTAssertEqual(change.user.email, "grace@example.com")
        XCTAssertEqual(change.user.clerkUserId, "user_new")
        XCTAssertTrue(users.created.isEmpty, "the filled row is the one found")
        XCTAssertEqual(answer["userId"]?.stringValue, try XCTUnwrap(users.user(clerkUserId: "user_new", environment: "production")).id.postgresText)
        // A user the database knows is not asked about.
        _ = try ask(.direct, token: try UnitTokens.session("user_new"), directory: true)
        XCTAssertEqual(clerk.asked, ["user_new"])
    }

    func testAUserClerkDoesNotHaveIsDeniedAndNoRowIsMade() throws {
        clerk.answers["user_ghost"] = .notFound
        try assertDenied(try UnitTokens.session("user_ghost"), reason: "user_not_found", directory: true)
        XCTAssertTrue(users.created.isEmpty)
        XCTAssertTrue(users.applied.isEmpty)
    }

    func testClerkUnavailableLeavesAMinimalRow() throws {
        clerk.answers["user_new"] = .unavailable(.rateLimited(retryAfterSeconds: 1))
        let answer = try ask(.httpAPI, token: try UnitTokens.session("user_new"), directory: true)
        XCTAssertEqual(answer["isAuthorized"], .bool(true))
        XCTAssertEqual(users.created, ["user_new"])
        XCTAssertTrue(users.applied.isEmpty)
    }

    func testADeletedUserIsDeniedAndARESTCallerGetsAnExplicitDeny() throws {
        users.add("user_gone", deleted: true)
        let token = try UnitTokens.session("user_gone")
        XCTAssertEqual(
            try ask(.httpAPI, token: token),
            .object(["isAuthorized": .bool(false), "context": .object(["reason": .string("user_deleted")])]))
        for shape in [Shape.restToken, .restRequest] {
            let policy = try ask(shape, token: token)
            XCTAssertEqual(policy["principalId"]?.stringValue, "deleted", "\(shape)")
            XCTAssertEqual(
                policy["policyDocument"]?["Statement"],
                .array([
                    .object([
                        "Action": .string("execute-api:Invoke"), "Effect": .string("Deny"),
                        "Resource": .string("arn:aws:execute-api:eu-west-1:123456789012:api1/prod/*")
                    ])
                ]))
            XCTAssertEqual(policy["context"], .object(["reason": .string("user_deleted")]))
        }
        XCTAssertEqual(try ask(.direct, token: token), .object(["valid": .bool(false), "reason": .string("user_deleted")]))
        XCTAssertTrue(users.created.isEmpty)
    }

    func testADatabaseAwayIsUnavailableNeverADenial() throws {
        users.failure = .connectionLost("gone")
        let token = try UnitTokens.session("user_1")
        for shape in [Shape.httpAPI, .restToken, .restRequest] {
            XCTAssertThrowsError(try ask(shape, token: token), "\(shape)") { error in
                let unavailable = error as? AuthorizerUnavailable
                XCTAssertEqual(unavailable?.reason, "database_unavailable", "\(shape): \(error)")
                XCTAssertEqual(unavailable?.errorType, "AuthorizerUnavailable")
            }
        }
        XCTAssertEqual(try ask(.direct, token: token), .object(["valid": .bool(false), "reason": .string("database_unavailable")]))
    }

    func testBadTokensAreDeniedWithTheirReason() throws {
        users.add("user_1")
        try assertDenied(nil, reason: "token_missing")
        try assertDenied(try UnitTokens.session("user_1", ttl: -60), reason: "token_expired")
        try assertDenied(try UnitTokens.session("user_1", signer: DevelopmentKey(keyId: UnitTokens.key.keyId)), reason: "signature_invalid")
        try assertDenied("not.a.token", reason: "token_malformed")
        try assertDenied(try UnitTokens.m2m(), reason: "token_type_not_accepted")
        try assertDenied("ak_live_9fK2mQ7xR4tW8zP1cV6bN3hJ5sL0dG", reason: "token_type_not_accepted")
        XCTAssertTrue(users.created.isEmpty, "no row for a token that was not verified")
    }

    func testAnEventOfNoKnownShapeIsAnInvalidEvent() throws {
        for event in ["[]", "{", #"{"type":"OTHER"}"#, "{}", #"{"type":"TOKEN","token":7}"#] {
            XCTAssertThrowsError(try function().handle(Array(event.utf8), context: unitContext()), event) { error in
                XCTAssertTrue(error is InvalidEventError, "\(event): \(error)")
            }
        }
    }
}
