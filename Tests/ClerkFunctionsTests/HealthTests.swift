import ClerkFunctions
import JSON
import LambdaRuntime
import LocalHosting
import Store
import TestSupport
import XCTest

/// `health`, driven through the harness with the event files users replay.
final class HealthTests: XCTestCase {
    func harness(_ env: [String: String]) -> LocalHarness {
        LocalHarness(registry: Functions.registry, environment: Environment(env), logger: Logger(level: .error))
    }

    func testHealthyDatabaseAnswers200() throws {
        let db = try TestDatabase.connect()
        try TestDatabase.reset(db)
        let out = try harness(["DATABASE_URL": TestDatabase.url]).invoke("health", event: BuiltProducts.event("health.get.json"))
        let response = try JSONValue.parse(out)
        XCTAssertEqual(response["statusCode"]?.doubleValue, 200)
        XCTAssertEqual(response["headers"]?["content-type"]?.stringValue, "application/json")
        let body = try JSONValue.parse(Array(response["body"]!.stringValue!.utf8))
        XCTAssertEqual(body, .object(["status": .string("ok"), "database": .string("ok")]))
        XCTAssertEqual(
            try db.query("SELECT count(*) AS n FROM users").first?.decode("n", as: Int.self), 0,
            "a health check writes nothing")
    }

    func testRESTProxyAndDirectInvocationAreAccepted() throws {
        let h = harness(["DATABASE_URL": TestDatabase.url])
        let rest =
            #"{"resource":"/health","path":"/health","httpMethod":"GET","headers":{"Accept":"*/*"},"requestContext":{"requestId":"r"},"body":null,"isBase64Encoded":false}"#
        XCTAssertEqual(try JSONValue.parse(h.invoke("health", event: Array(rest.utf8)))["statusCode"]?.doubleValue, 200)
        XCTAssertEqual(try JSONValue.parse(h.invoke("health", event: Array("{}".utf8)))["statusCode"]?.doubleValue, 200)
    }

    func testDatabaseDownAnswers503WithTheErrorClass() throws {
        let h = harness(["DATABASE_URL": "postgresql://nobody@/x?host=/nonexistent-socket-dir", "DATABASE_CONNECT_TIMEOUT": "1"])
        let response = try JSONValue.parse(h.invoke("health", event: BuiltProducts.event("health.get.json")))
        XCTAssertEqual(response["statusCode"]?.doubleValue, 503)
        let body = try JSONValue.parse(Array(response["body"]!.stringValue!.utf8))
        XCTAssertEqual(body["status"]?.stringValue, "unavailable")
        XCTAssertEqual(body["errorClass"]?.stringValue, "08")
    }

    func testMissingDatabaseURLIsAnInitError() {
        XCTAssertThrowsError(try harness([:]).invoke("health", event: Array("{}".utf8))) { error in
            guard case HarnessError.initFailed(let object)? = error as? HarnessError else { return XCTFail("\(error)") }
            XCTAssertEqual(object.errorType, "Runtime.ConfigError")
        }
    }
}
