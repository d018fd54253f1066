import JSON
import Store
import XCTest

@testable import ClerkFunctions

/// `health`'s two answers, with the database's round trip stubbed: 200 when it answers, 503 naming the SQLSTATE
/// class when it does not. The integration tier pings a real PostgreSQL (`HealthTests`).
final class HealthHandlerTests: XCTestCase {
    /// A database that answers, or fails with `failure`.
    struct StubProbe: DatabaseProbe {
        var failure: PostgresError?
        func ping() throws(PostgresError) { if let failure { throw failure } }
    }

    func health(_ probe: StubProbe, event: String = "{}") throws -> (status: Int, body: JSONValue) {
        try UnitAnswers.http(HealthFunction(database: probe).handle(Array(event.utf8), context: unitContext()))
    }

    func testADatabaseThatAnswersIs200() throws {
        for event in ["{}", #"{"version":"2.0","rawPath":"/health"}"#, "[]", "not json"] {
            let r = try health(StubProbe(), event: event)
            XCTAssertEqual(r.status, 200, event)
            XCTAssertEqual(r.body, .object(["database": .string("ok"), "status": .string("ok")]), event)
        }
    }

    func testADatabaseAwayIs503WithTheErrorClass() throws {
        let cases: [(PostgresError, String)] = [
            (.connectionFailed("refused"), "08"), (.connectionLost("gone"), "08"),
            (.query(sqlState: "57P03", message: "starting up"), "57"),
            (.query(sqlState: "53300", message: "too many clients"), "53")
        ]
        for (failure, errorClass) in cases {
            let r = try health(StubProbe(failure: failure))
            XCTAssertEqual(r.status, 503, "\(failure)")
            XCTAssertEqual(r.body["status"]?.stringValue, "unavailable")
            XCTAssertEqual(r.body["database"]?.stringValue, "error")
            XCTAssertEqual(r.body["errorClass"]?.stringValue, errorClass, "\(failure)")
            XCTAssertFalse("\(r.body)".contains("too many clients"), "the server's message is not answered")
        }
    }
}
