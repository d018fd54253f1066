import LambdaRuntime
import XCTest

@testable import ClerkFunctions

/// The authorizer adapter: each envelope becomes its typed request, the token found the one way.
final class AuthorizerRequestTests: XCTestCase {
    func decode(_ json: String) throws -> AuthorizerRequest { try AuthorizerRequest.decode(Array(json.utf8)) }

    func testEachEnvelopeBecomesItsRequest() throws {
        XCTAssertEqual(
            try decode(#"{"type":"TOKEN","authorizationToken":"Bearer t1","methodArn":"arn:x/prod/GET/me"}"#),
            .rest(token: "t1", methodArn: "arn:x/prod/GET/me", shape: "rest-token"))
        XCTAssertEqual(
            try decode(#"{"type":"REQUEST","version":"2.0","headers":{"authorization":"Bearer t2"}}"#), .httpAPI(token: "t2"))
        XCTAssertEqual(
            try decode(#"{"type":"REQUEST","methodArn":"arn:y","headers":{"Cookie":"a=1; __session=t3"}}"#),
            .rest(token: "t3", methodArn: "arn:y", shape: "rest-request"))
        XCTAssertEqual(
            try decode(#"{"type":"REQUEST","version":"2.0","identitySource":["Bearer t4"]}"#), .httpAPI(token: "t4"))
        XCTAssertEqual(try decode(#"{"type":"REQUEST","version":"2.0","cookies":["__session=t5"]}"#), .httpAPI(token: "t5"))
        XCTAssertEqual(try decode(#"{"token":"Bearer t6"}"#), .direct(token: "t6"))
        XCTAssertEqual(try decode(#"{"token":"t7"}"#), .direct(token: "t7"))
    }

    func testHeadersThatLowerCaseAlikeReadTheLowerCaseOne() throws {
        XCTAssertEqual(
            try decode(#"{"type":"REQUEST","version":"2.0","headers":{"Authorization":"Bearer upper","authorization":"Bearer lower"}}"#),
            .httpAPI(token: "lower"))
    }

    func testAMissingTokenIsARequestWithoutOneAndOtherEventsAreRefused() throws {
        XCTAssertEqual(try decode(#"{"type":"TOKEN"}"#), .rest(token: nil, methodArn: "", shape: "rest-token"))
        XCTAssertEqual(try decode(#"{"type":"REQUEST","version":"2.0"}"#), .httpAPI(token: nil))
        for bad in ["{}", #"{"type":"OTHER"}"#, "[]", "", #"{"token":5}"#] {
            XCTAssertThrowsError(try decode(bad), bad) { XCTAssertTrue($0 is InvalidEventError, "\(bad): \($0)") }
        }
    }
}
