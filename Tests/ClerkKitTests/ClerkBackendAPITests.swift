import ClerkKit
import ClerkKitTestSupport
import ClerkStandIn
import DevTools
import JSON
import LambdaRuntime
import RuntimeSupport
import XCTest

/// The Backend API client against a loopback stand-in that serves Clerk's documented shapes.
final class ClerkBackendAPITests: XCTestCase {
    var standIn: ClerkAPIStandIn!

    override func setUpWithError() throws {
        standIn = try ClerkAPIStandIn()
    }

    func api(secret: String? = nil) throws -> ClerkBackendAPI {
        try ClerkBackendAPI(baseURL: standIn.baseURL, secretKey: secret ?? standIn.secretKey)
    }

    func deadline(_ ms: Int64 = 10_000) -> Int64 { Clock.nowMs() + ms }

    func testUsersArePagedAsABareArrayWithTheSecretAndTheVersionHeader() throws {
        for i in 0..<7 { standIn.addUser(id: "user_\(i)abc", email: "u\(i)@example.com") }
        let client = try api()
        let first = try client.users(limit: 5, offset: 0, deadlineMs: deadline())
        let second = try client.users(limit: 5, offset: 5, deadlineMs: deadline())
        XCTAssertEqual(first.map(\.id), (0..<5).map { "user_\($0)abc" })
        XCTAssertEqual(second.map(\.id), ["user_5abc", "user_6abc"])
        XCTAssertEqual(first[0].primaryEmail, "u0@example.com")
        let request = try XCTUnwrap(standIn.requests.first)
        XCTAssertEqual(request.header("authorization"), "Bearer " + standIn.secretKey)
        XCTAssertEqual(request.header("clerk-api-version"), ClerkBackendAPI.apiVersion)
        XCTAssertTrue(request.path.contains("limit=5") && request.path.contains("offset=0"), request.path)
    }

    func testOrganizationsAndMembershipsComeAsDataAndTotalCount() throws {
        standIn.addOrganization(id: "org_1", name: "Acme", slug: "acme", members: [("orgmem_1", "user_1", "org:admin")])
        standIn.addOrganization(id: "org_2", name: "Globex", slug: "globex")
        let client = try api()
        let page = try client.organizations(limit: 1, offset: 0, deadlineMs: deadline())
        XCTAssertEqual(page.totalCount, 2)
        XCTAssertEqual(page.data.map(\.id), ["org_1"])
        XCTAssertEqual(page.data[0].slug, "acme")
        XCTAssertEqual(page.data[0].publicMetadataJSON, #"{"plan":"team"}"#)
        let members = try client.memberships(organizationId: "org_1", limit: 10, offset: 0, deadlineMs: deadline())
        XCTAssertEqual(members.data.map(\.id), ["orgmem_1"])
        XCTAssertEqual(members.data[0].userId, "user_1")
        XCTAssertEqual(members.data[0].organizationId, "org_1")
        XCTAssertEqual(members.data[0].role, "org:admin")
    }

    func test429WaitsOutRetryAfterThenSucceeds() throws {
        standIn.addUser(id: "user_a", email: nil)
        standIn.cue(429, retryAfter: "1")
        let started = Clock.monotonicNs()
        let user = try api().user(id: "user_a", deadlineMs: deadline())
        XCTAssertEqual(user.id, "user_a")
        XCTAssertGreaterThanOrEqual(Clock.monotonicNs() - started, 1_000_000_000, "Retry-After: 1 was honoured")
        XCTAssertEqual(standIn.requests.count, 2)
    }

    func test429WhoseWaitDoesNotFitTheDeadlineIsRateLimited() throws {
        standIn.cue(429, retryAfter: "30")
        XCTAssertThrowsError(try api().user(id: "user_a", deadlineMs: deadline(3000))) { error in
            XCTAssertEqual(error as? ClerkAPIError, .rateLimited(retryAfterSeconds: 30))
        }
        XCTAssertEqual(standIn.requests.count, 1, "no retry that cannot finish in time")
    }

    func test5xxIsRetriedWithBackoffAndAnOutageIsUnavailable() throws {
        standIn.addUser(id: "user_b", email: nil)
        standIn.cue(503)
        standIn.cue(500)
        XCTAssertEqual(try api().user(id: "user_b", deadlineMs: deadline()).id, "user_b")
        for _ in 0..<10 { standIn.cue(502) }
        XCTAssertThrowsError(try api().user(id: "user_b", deadlineMs: deadline(2000))) { error in
            guard case .unavailable? = error as? ClerkAPIError else { return XCTFail("\(error)") }
        }
    }

    func test404And401AreTypedAndTheSecretNeverAppears() throws {
        XCTAssertThrowsError(try api().user(id: "user_missing", deadlineMs: deadline())) { error in
            XCTAssertEqual(error as? ClerkAPIError, .notFound)
        }
        let secret = "sk_live_should_never_show"
        XCTAssertThrowsError(try api(secret: secret).users(limit: 1, offset: 0, deadlineMs: deadline())) { error in
            XCTAssertEqual(error as? ClerkAPIError, .unauthorized(status: 401))
            XCTAssertFalse("\(error)".contains(secret))
        }
    }

    func testIdsThatCouldChangeThePathAreRefusedWithoutACall() throws {
        XCTAssertThrowsError(try api().user(id: "../organizations", deadlineMs: deadline()))
        XCTAssertThrowsError(try api().user(id: "user_1?x=1", deadlineMs: deadline()))
        XCTAssertEqual(standIn.requests.count, 0)
    }

    func testTheSecretOnlyTravelsOverHTTPSOrToLoopback() {
        XCTAssertThrowsError(try ClerkBackendAPI(baseURL: "http://api.clerk.com", secretKey: "sk"))
        XCTAssertNoThrow(try ClerkBackendAPI(baseURL: "https://api.clerk.com", secretKey: "sk"))
        XCTAssertNoThrow(try ClerkBackendAPI(baseURL: "http://127.0.0.1:9", secretKey: "sk"))
    }
}
