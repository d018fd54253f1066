import ClerkKit
import XCTest

/// `SessionClaims.organization(payload:)`: v2 `o`/`fea`/`pla`/`act` decoded as Clerk's SDK decodes them,
/// v1 `org_*` giving the same result, and garbage refused with a specific detail (never a trap).
final class SessionClaimsOrganizationTests: XCTestCase {
    func decode(_ json: String) throws -> SessionClaims.Organization { try SessionClaims.organization(payload: Array(json.utf8)) }

    func detail(_ json: String) -> String? {
        do {
            _ = try decode(json)
            return nil
        } catch let error as SessionClaims.OrganizationClaimsError {
            return error.detail
        } catch {
            return "\(error)"
        }
    }

    func testClerksDocumentedFpmExample() throws {
        let o = try decode(#"{"v":2,"fea":"o:dashboard,o:teams","o":{"id":"org_1","rol":"admin","slg":"acme","per":"manage,read","fpm":"3,2"}}"#)
        XCTAssertEqual(o.permissions, ["org:dashboard:manage", "org:dashboard:read", "org:teams:read"])
        XCTAssertEqual(o.role, "org:admin", "the SDK restores the org: prefix")
        XCTAssertEqual(o.id, "org_1")
        XCTAssertEqual(o.slug, "acme")
    }

    func testTheReferenceV1AndV2ExamplesCarryTheSameOrganization() throws {
        let v1 = try decode(#"{"azp":"https://app.example.com","exp":1735736460,"iat":1735736400,"iss":"https://clerk.example.com","nbf":1735736390,"sid":"sess_2a7Q9cJx3LmT8vRk1pWn5yZbHdE","sub":"user_2Zs8PqLwX4nT6kVb9cRj1mHdYeF","fva":[5,-1],"sts":"active","org_id":"org_2b1M4kQz8RtY6wXc3nVp7LsJfGa","org_slug":"acme","org_role":"org:admin","org_permissions":["org:articles:read","org:articles:manage"]}"#)
        let v2 = try decode(#"{"azp":"https://app.example.com","exp":1735736460,"iat":1735736400,"iss":"https://clerk.example.com","nbf":1735736390,"sid":"sess_2a7Q9cJx3LmT8vRk1pWn5yZbHdE","sub":"user_2Zs8PqLwX4nT6kVb9cRj1mHdYeF","v":2,"fva":[5,-1],"sts":"active","fea":"o:articles,u:premium","pla":"u:free_user,o:pro","o":{"id":"org_2b1M4kQz8RtY6wXc3nVp7LsJfGa","slg":"acme","rol":"admin","per":"read,manage","fpm":"3"}}"#)
        XCTAssertEqual(v1.id, v2.id)
        XCTAssertEqual(v1.role, v2.role)
        XCTAssertEqual(v1.slug, v2.slug)
        XCTAssertEqual(v1.permissions, v2.permissions)
        XCTAssertEqual(v2.plans, "u:free_user,o:pro")
        XCTAssertEqual(v2.features, "o:articles,u:premium")
    }

    func testOnlyOrgScopedFeaturesTakePartInOrder() throws {
        let o = try decode(#"{"v":2,"fea":"u:premium,ou:reports, uo:billing ,o:teams","o":{"id":"org_1","rol":"member","per":"read,write","fpm":"1,2,3"}}"#)
        XCTAssertEqual(o.permissions, ["org:reports:read", "org:billing:write", "org:teams:read", "org:teams:write"])
    }

    func testNoOrganizationAndPartialClaims() throws {
        let none = try decode(#"{"v":2,"sub":"user_1","fea":"u:premium","pla":"u:free"}"#)
        XCTAssertNil(none.id)
        XCTAssertEqual(none.permissions, [])
        XCTAssertEqual(none.plans, "u:free")
        let noFpm = try decode(#"{"v":2,"fea":"o:teams","o":{"id":"org_1","rol":"member","per":"read"}}"#)
        XCTAssertEqual(noFpm.permissions, [], "the SDK grants nothing without fpm")
        let zero = try decode(#"{"v":2,"fea":"o:teams","o":{"id":"org_1","per":"read","fpm":"0"}}"#)
        XCTAssertEqual(zero.permissions, [])
        XCTAssertNil(zero.role)
        let v1None = try decode(#"{"sub":"user_1"}"#)
        XCTAssertEqual(v1None, SessionClaims.Organization())
    }

    func testV2IgnoresV1ClaimsAndV1IgnoresO() throws {
        XCTAssertNil(try decode(#"{"v":2,"org_id":"org_old"}"#).id)
        XCTAssertNil(try decode(#"{"o":{"id":"org_new"}}"#).id)
    }

    func testTheActor() throws {
        XCTAssertEqual(try decode(#"{"v":2,"act":{"sub":"user_admin","iss":"https://dashboard.clerk.com"}}"#).actor, "user_admin")
        XCTAssertNil(try decode(#"{"v":2}"#).actor)
    }

    func testGarbageIsRefusedWithASpecificDetail() {
        let base = #""v":2,"fea":"o:teams""#
        XCTAssertEqual(detail(#"{\#(base),"o":{"id":"org_1","per":"read","fpm":"x"}}"#), "fpm_not_a_number")
        XCTAssertEqual(detail(#"{\#(base),"o":{"id":"org_1","per":"read","fpm":"-1"}}"#), "fpm_not_a_number")
        XCTAssertEqual(detail(#"{\#(base),"o":{"id":"org_1","per":"read","fpm":"1e3"}}"#), "fpm_not_a_number")
        XCTAssertEqual(detail(#"{\#(base),"o":{"id":"org_1","per":"read","fpm":""}}"#), "fpm_not_a_number")
        XCTAssertEqual(detail(#"{\#(base),"o":{"id":"org_1","per":"read","fpm":"18446744073709551616"}}"#), "fpm_too_large")
        XCTAssertEqual(detail(#"{\#(base),"o":{"id":"org_1","per":"read","fpm":"99999999999999999999999999999999999999"}}"#), "fpm_not_a_number")
        XCTAssertEqual(detail(#"{\#(base),"o":{"id":"org_1","per":"read","fpm":"2"}}"#), "fpm_bit_without_permission")
        XCTAssertEqual(detail(#"{\#(base),"o":{"id":"org_1","per":"read","fpm":"1,1"}}"#), "fpm_count_mismatch")
        XCTAssertEqual(detail(#"{\#(base),"o":{"id":"org_1","per":"read,","fpm":"1"}}"#), "per_empty_name")
        XCTAssertEqual(detail(#"{"v":2,"fea":"teams","o":{"id":"org_1","per":"read","fpm":"1"}}"#), "fea_without_scope")
        XCTAssertEqual(detail(#"{\#(base),"o":"org_1"}"#), "o_not_object")
        XCTAssertEqual(detail(#"{\#(base),"o":{"id":7}}"#), "o_id_not_string")
        XCTAssertEqual(detail(#"{\#(base),"o":{"rol":"admin"}}"#), "org_claims_without_org_id")
        XCTAssertEqual(detail(#"{"v":2,"fea":5}"#), "fea_not_string")
        XCTAssertEqual(detail(#"{"v":2,"act":"user_x"}"#), "act_not_object")
        XCTAssertEqual(detail(#"{"org_id":"org_1","org_permissions":"org:a:b"}"#), "org_permissions_not_array")
        XCTAssertEqual(detail(#"{"org_id":"org_1","org_permissions":[1]}"#), "org_permissions_not_strings")
        let many = (0..<65).map { "p\($0)" }.joined(separator: ",")
        XCTAssertEqual(detail(#"{\#(base),"o":{"id":"org_1","per":"\#(many)","fpm":"1"}}"#), "per_too_many")
    }

    func testSixtyFourPermissionsUseEveryBit() throws {
        let names = (0..<64).map { "p\($0)" }.joined(separator: ",")
        let o = try decode(#"{"v":2,"fea":"o:f","o":{"id":"org_1","per":"\#(names)","fpm":"18446744073709551615"}}"#)
        XCTAssertEqual(o.permissions.count, 64)
        XCTAssertEqual(o.permissions.last, "org:f:p63")
    }
}
