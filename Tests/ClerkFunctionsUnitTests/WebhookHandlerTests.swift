import ClerkKit
import JSON
import Store
import XCTest

@testable import ClerkFunctions

/// The webhook handler's decisions, with the store, the keys and the profile service in memory: which answer,
/// which store change, which failure a queue retries. No server; the integration tier runs the same paths on
/// PostgreSQL.
final class WebhookHandlerTests: XCTestCase {
    let store = InMemoryEventStore()
    let keys = InMemoryAPIKeys()
    let profile = RecordingProfileService()

    func handler(_ types: Set<String> = EventRegistry.types(of: Set(EventFamily.allCases)), keys issuing: Bool = true) -> WebhookHandler {
        WebhookHandler(accepted: types, store: store, issuer: issuing ? APIKeyIssuer(keys: keys, profile: profile) : nil)
    }

    func deliver(_ body: String, id: String = "msg_1", to handler: WebhookHandler? = nil) -> DeliveryOutcome {
        (handler ?? self.handler()).deliver(
            Delivery(id: id, environment: "production", body: Array(body.utf8), source: .webhook),
            context: unitContext(), logger: unitContext().logger)
    }

    static func user(_ type: String, id: String = "user_1", updatedAt: Int64 = 10, firstName: String = "Ada") -> String {
        #"{"type":"\#(type)","timestamp":5,"data":{"id":"\#(id)","object":"user","first_name":"\#(firstName)","email_addresses":[{"id":"e1","email_address":"ada@example.com"}],"primary_email_address_id":"e1","updated_at":\#(updatedAt)}}"#
    }

    func testAUserCreatedIsAppliedAndGetsAKeyThroughTheProfileService() throws {
        let outcome = deliver(Self.user("user.created"))
        guard case .applied(let type, let change, .userId, "issued") = outcome else { return XCTFail("\(outcome)") }
        XCTAssertEqual(type, "user.created")
        XCTAssertEqual(change.status, .processed)
        XCTAssertEqual(outcome.status, 200)
        let user = try XCTUnwrap(store.applied.first as? UserChange)
        XCTAssertEqual(user.kind, .created)
        XCTAssertEqual(user.user.email, "ada@example.com")
        XCTAssertEqual(user.deliveryId, "msg_1")
        XCTAssertEqual(profile.received.map(\.clerk_user_id), ["user_1"])
        XCTAssertEqual(keys.count(.active), 1)
    }

    func testTheAnswerNamesTheRowByItsFamily() throws {
        XCTAssertEqual(try body(deliver(Self.user("user.updated")))["userId"]?.stringValue, InMemoryEventStore.uuid(1).postgresText)
        let org = #"{"type":"organization.created","timestamp":5,"data":{"id":"org_1","name":"Acme","slug":"acme","updated_at":3}}"#
        let answer = try body(deliver(org, id: "msg_2"))
        XCTAssertEqual(answer["status"]?.stringValue, "processed")
        XCTAssertNotNil(answer["organizationId"]?.stringValue)
        XCTAssertNil(answer["userId"])
    }

    func testARedeliveryIsADuplicateAndAnOlderVersionIsStale() {
        _ = deliver(Self.user("user.updated", updatedAt: 20))
        guard case .applied(_, let again, _, _) = deliver(Self.user("user.updated", updatedAt: 20)) else { return XCTFail() }
        XCTAssertEqual(again.status, .duplicate)
        guard case .applied(_, let older, _, _) = deliver(Self.user("user.updated", updatedAt: 10), id: "msg_old") else { return XCTFail() }
        XCTAssertEqual(older.status, .stale)
    }

    func testATypeTheFunctionDoesNotTakeIsIgnoredWith202AndNothingWritten() {
        let onlyCreated = handler(["user.created"])
        XCTAssertEqual(deliver(Self.user("user.updated"), to: onlyCreated), .ignored(type: "user.updated"))
        XCTAssertEqual(deliver(#"{"type":"session.created","data":{"id":"sess_1"}}"#), .ignored(type: "session.created"))
        XCTAssertEqual(DeliveryOutcome.ignored(type: "x").status, 202)
        XCTAssertTrue(store.applied.isEmpty)
    }

    func testABodyThatIsNotAClerkEventIs400AndNotRetried() {
        for body in ["{", #"{"data":{}}"#, #"{"type":"user.created","data":{"first_name":"no id"}}"#, "[]"] {
            let outcome = deliver(body)
            guard case .failed(nil, let failure) = outcome else { return XCTFail("\(body): \(outcome)") }
            XCTAssertEqual(failure.code, .malformedJSON, body)
            XCTAssertEqual(outcome.status, 400)
            XCTAssertFalse(outcome.isRetryable)
        }
        XCTAssertTrue(store.applied.isEmpty)
    }

    func testDataThePostgresRefusesIsRecordedOnceAndAnswered200() throws {
        store.failNext = .query(sqlState: "22001", message: "value too long")
        let outcome = deliver(Self.user("user.created"))
        XCTAssertEqual(outcome, .rejected(type: "user.created", sqlState: "22001"))
        XCTAssertEqual(try body(outcome)["status"]?.stringValue, "rejected")
        XCTAssertEqual(store.rejected.map(\.deliveryId), ["msg_1"])
        XCTAssertEqual(store.rejected.first?.clerkUserId, "user_1")
        XCTAssertEqual(store.rejected.first?.source, .webhook)
        XCTAssertTrue(profile.received.isEmpty, "no key for a user that was not stored")
    }

    func testADatabaseAwayIs503AndRetriedOtherStoreErrors500() {
        store.failNext = .connectionLost("gone")
        let away = deliver(Self.user("user.updated"))
        XCTAssertEqual(away.status, 503)
        XCTAssertTrue(away.isRetryable)
        store.failNext = .query(sqlState: "42P01", message: "no table")
        let broken = deliver(Self.user("user.updated"))
        XCTAssertEqual(broken.status, 500)
        XCTAssertTrue(broken.isRetryable, "a queue keeps it: a fix may make it apply")
    }

    func testAKeyHeldByAnotherDeliveryIs409AndNoSecondKeyIsSent() {
        profile.answer = .unavailable(answered: false)
        XCTAssertEqual(deliver(Self.user("user.created")).status, 502, "the profile service timed out: its lease stays")
        profile.answer = .accept
        let second = deliver(Self.user("user.created"), id: "msg_retry")
        guard case .failed(_, let failure) = second else { return XCTFail("\(second)") }
        XCTAssertEqual(failure.code, .apiKeyConflict)
        XCTAssertEqual(second.status, 409)
        XCTAssertTrue(second.isRetryable)
        XCTAssertEqual(profile.received.count, 1)
    }

    func testAProfileServiceThatRefusesForGoodGetsTheKeyRevoked() {
        profile.answer = .reject(422)
        guard case .applied(_, _, _, "rejected_by_profile_service") = deliver(Self.user("user.created")) else { return XCTFail() }
        XCTAssertEqual(keys.count(.revoked), 1)
        XCTAssertEqual(keys.count(.active), 0)
    }

    func testOnlyUserCreatedIssuesAKey() {
        _ = deliver(Self.user("user.updated"))
        XCTAssertTrue(profile.received.isEmpty)
        _ = deliver(Self.user("user.created"), id: "msg_2", to: handler(keys: false))
        XCTAssertTrue(profile.received.isEmpty, "no profile service configured")
    }

    func testAChangeWithoutUpdatedAtTakesTheEnvelopeTime() throws {
        _ = deliver(
            #"{"type":"organizationMembership.created","timestamp":77,"data":{"id":"orgmem_1","organization":{"id":"org_1"},"public_user_data":{"user_id":"user_1"},"role":"org:admin"}}"#
        )
        let change = try XCTUnwrap(store.applied.first as? MembershipChange)
        XCTAssertEqual(change.membership.updatedAtMs, 77)
        XCTAssertEqual(change.membership.clerkOrgId, "org_1")
        XCTAssertEqual(change.membership.clerkUserId, "user_1")
    }

    func testTheStoredPayloadIsTheEventsDataAsSent() throws {
        let data = #"{"id":"user_9","object":"user","email_addresses":[],"updated_at":4,"public_metadata":{"z":1,"a":[true]}}"#
        _ = deliver(#"{"data":\#(data),"type":"user.updated","timestamp":5}"#)
        XCTAssertEqual(try XCTUnwrap(store.applied.first as? UserChange).user.rawJSON, data)
    }

    func testNULIsCountedOnceForThePayload() throws {
        let outcome = deliver(Self.user("user.updated", firstName: #"Ada\u0000X"#))
        guard case .applied(_, let change, _, _) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertEqual(change.nulRemoved, 1)
    }

    /// The profile service gets the user as the row holds it: an escaped NUL in a name never reaches it (nor
    /// the key's mapping, which libpq would cut at the NUL).
    func testTheProfileServiceGetsTheUserCleanedOfNUL() throws {
        _ = deliver(Self.user("user.created", id: #"user_n\u0000ul"#, firstName: #"A\u0000B"#))
        let sent = try XCTUnwrap(profile.received.first)
        XCTAssertEqual(sent.first_name, "AB")
        XCTAssertEqual(sent.clerk_user_id, "user_nul")
    }

    /// An organization or membership answer names a missing row `null`; a user answer leaves it out.
    func testAMissingRowIsNullForOrganizationsAndAbsentForUsers() throws {
        let none = AppliedChange(status: .stale, id: nil, nulRemoved: 0)
        let membership = try body(.applied(type: "organizationMembership.updated", none, key: .membershipId, apiKey: nil))
        XCTAssertEqual(membership["membershipId"], .null)
        let user = try body(.applied(type: "user.updated", none, key: .userId, apiKey: nil))
        XCTAssertNil(user["userId"])
        XCTAssertEqual(user["status"]?.stringValue, "stale")
    }

    private func body(_ outcome: DeliveryOutcome) throws -> JSONObject {
        let response = APIResponse(outcome)
        guard case .object(let object) = try JSONValue.parseStrict(Array(response.body.utf8)) else { throw CocoaError.unknown }
        return object
    }
}

private enum CocoaError: Error { case unknown }
