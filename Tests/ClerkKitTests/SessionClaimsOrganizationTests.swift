import ClerkKit
import XCTest

/// `SessionClaims.organization(payload:)`: v2 `o`/`fea`/`pla`/`act` decoded as Clerk's SDK decodes them,
/// v1 `org_*` giving the same result, and garbage refused with a specific detail (never a trap).
final class SessionClaimsOrganizationTests: XCTestCase {
    /// The claims, or the first problem thrown (the tests of clean claims expect none).
    func decode(_ json: String) throws -> SessionClaims.Organization {
        let o = SessionClaims.organization(payload: Array(json.utf8))
        if let problem = o.problems.first { throw problem }
        return o
    }

    /// The detail of the first problem, nil when everything reads.
    func detail(_ json: String) -> String? { SessionClaims.organization(payload: Array(json.utf8)).problems.first?.detail }

    func testClerksDocumentedFpmExample() throws {
        let o = try decode(#"{"v":2,"fea":"o:dashboard,o:teams","o":{"id":"org_1","rol":"admin","slg":"acme","per":"manage,read","fpm":"3,2"}}"#)
        XCTAssertEqual(o.permissions, ["org:dashboard:manage", "org:dashboard:read", "org:teams:read"])
        XCTAssertEqual(o.role, "org:admin", "the SDK restores the org: prefix")
        XCTAssertEqual(o.id, "org_1")
        XCTAssertEqual(o.slug, "acme")
    }

    func testTheReferenceV1AndV2ExamplesCarryTheSameOrganization() throws {
        let v1 = try decode(
            #"{"azp":"https://app.example.com","exp":1735736460,"iat":1735736400,"iss":"https://clerk.example.com","nbf":1735736390,"sid":"sess_2a7Q9cJx3LmT8vRk1pWn5yZbHdE","sub":"user_2Zs8PqLwX4nT6kVb9cRj1mHdYeF","fva":[5,-1],"sts":"active","org_id":"org_2b1M4kQz8RtY6wXc3nVp7LsJfGa","org_slug":"acme","org_role":"org:admin","org_permissions":["org:articles:read","org:articles:manage"]}"#
        )
        let v2 = try decode(
            #"{"azp":"https://app.example.com","exp":1735736460,"iat":1735736400,"iss":"https://clerk.example.com","nbf":1735736390,"sid":"sess_2a7Q9cJx3LmT8vRk1pWn5yZbHdE","sub":"user_2Zs8PqLwX4nT6kVb9cRj1mHdYeF","v":2,"fva":[5,-1],"sts":"active","fea":"o:articles,u:premium","pla":"u:free_user,o:pro","o":{"id":"org_2b1M4kQz8RtY6wXc3nVp7LsJfGa","slg":"acme","rol":"admin","per":"read,manage","fpm":"3"}}"#
        )
        XCTAssertEqual(v1.id, v2.id)
        XCTAssertEqual(v1.role, v2.role)
        XCTAssertEqual(v1.slug, v2.slug)
        XCTAssertEqual(v1.permissions, v2.permissions)
        XCTAssertEqual(v2.plans, "u:free_user,o:pro")
        XCTAssertEqual(v2.features, "o:articles,u:premium")
    }

    func testOnlyOrgScopedFeaturesTakePartInOrder() throws {
        let o = try decode(
            #"{"v":2,"fea":"u:premium,ou:reports, uo:billing ,o:teams","o":{"id":"org_1","rol":"member","per":"read,write","fpm":"1,2,3"}}"#)
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

    func testGarbageIsLeftOutWithASpecificDetail() {
        let base = #""v":2,"fea":"o:teams""#
        for (mask, expected) in [
            ("x", "fpm_not_a_number"), ("-1", "fpm_not_a_number"), ("-9223372036854775807", "fpm_not_a_number"),
            ("1e3", "fpm_not_a_number"), ("1.5", "fpm_not_a_number"), ("0x1f", "fpm_not_a_number"),
            ("+3", "fpm_not_a_number"), ("\u{FF11}", "fpm_not_a_number"), ("\u{0663}", "fpm_not_a_number"),
            ("1,,", "fpm_not_a_number"), (String(repeating: "9", count: 1001), "fpm_too_large")
        ] {
            // A mask that is not a plain decimal grants nothing in Clerk's SDKs; here it leaves the organization out.
            let fea = mask == "1,," ? "o:teams,o:b" : "o:teams"
            XCTAssertEqual(detail(#"{"v":2,"fea":"\#(fea)","o":{"id":"org_1","per":"read","fpm":"\#(mask)"}}"#), expected, mask)
        }
        XCTAssertEqual(detail(#"{\#(base),"o":{"id":"org_1","per":"read,","fpm":"2"}}"#), "per_empty_name")
        XCTAssertEqual(detail(#"{"v":2,"fea":"teams","o":{"id":"org_1","per":"read","fpm":"1"}}"#), "fea_without_scope")
        XCTAssertEqual(detail(#"{"v":2,"fea":"u:a,x:teams","o":{"id":"org_1","per":"read","fpm":"1"}}"#), "fea_scope_unknown")
        XCTAssertEqual(detail(#"{"v":2,"fea":"ox:teams","o":{"id":"org_1","per":"read","fpm":"1"}}"#), "fea_scope_unknown")
        XCTAssertEqual(detail(#"{"v":2,"fea":"o:","o":{"id":"org_1","per":"read","fpm":"1"}}"#), "fea_name_invalid")
        XCTAssertEqual(detail(#"{"v":2,"fea":"o:a:b","o":{"id":"org_1","per":"read","fpm":"1"}}"#), "fea_name_invalid")
        XCTAssertEqual(detail(#"{"v":2,"fea":5,"o":{"id":"org_1","per":"read","fpm":"1"}}"#), "fea_not_string")
        XCTAssertEqual(detail(#"{\#(base),"o":"org_1"}"#), "o_not_object")
        XCTAssertEqual(detail(#"{\#(base),"o":{"id":7}}"#), "o_id_not_string")
        XCTAssertEqual(detail(#"{\#(base),"o":{"rol":"admin"}}"#), "org_claims_without_org_id")
        XCTAssertEqual(detail(#"{"v":2,"fea":5}"#), "fea_not_string")
        XCTAssertEqual(detail(#"{"v":2,"pla":["u:free"]}"#), "pla_not_string")
        XCTAssertEqual(detail(#"{"v":2,"act":"user_x"}"#), "act_not_object")
        XCTAssertEqual(detail(#"{"v":2,"act":{"sub":""}}"#), "act_sub_not_string")
        XCTAssertEqual(detail(#"{"org_id":"org_1","org_permissions":"org:a:b"}"#), "org_permissions_not_array")
        XCTAssertEqual(detail(#"{"org_id":"org_1","org_permissions":[1]}"#), "org_permissions_not_strings")
        XCTAssertEqual(detail("not json"), "payload_not_json")
        // What Clerk's SDKs read fine is no problem: masks past the features, features past the masks, bits past
        // the names, a `u:` element of any shape, no `fea` at all, an empty `fea`, `per` or `fpm` (no permissions).
        for json in [
            #"{\#(base),"o":{"id":"org_1","per":"read","fpm":"1,x"}}"#, #"{"v":2,"fea":"o:a,o:b","o":{"id":"org_1","per":"read","fpm":"1"}}"#,
            #"{\#(base),"o":{"id":"org_1","per":"read","fpm":"18446744073709551616"}}"#,
            #"{"v":2,"fea":"u:a:b,o:teams","o":{"id":"org_1","per":"read","fpm":"1"}}"#,
            #"{"v":2,"o":{"id":"org_1","per":"read","fpm":"1"}}"#, #"{"v":2,"fea":"","o":{"id":"org_1","per":"read","fpm":"1"}}"#,
            #"{\#(base),"o":{"id":"org_1","per":"read","fpm":""}}"#, #"{\#(base),"o":{"id":"org_1","per":"","fpm":"1"}}"#
        ] {
            XCTAssertNil(detail(json), json)
        }
    }

    /// Each problem names its part, and leaves only that part out.
    func testAProblemLeavesOutItsPartOnly() throws {
        let org = SessionClaims.organization(
            payload: Array(
                #"{"v":2,"act":{"sub":"user_support"},"fea":"o:teams","pla":"u:free","o":{"id":"org_1","rol":"admin","slg":"acme","per":"read","fpm":"x"}}"#
                    .utf8))
        XCTAssertEqual(org.problems, [SessionClaims.OrganizationClaimsError(.organization, "fpm_not_a_number")])
        XCTAssertEqual(org.problems.first?.reason, "org_claims_invalid")
        XCTAssertNil(org.id)
        XCTAssertNil(org.role)
        XCTAssertNil(org.slug)
        XCTAssertEqual(org.permissions, [])
        XCTAssertEqual(org.actor, "user_support")
        XCTAssertEqual(org.plans, "u:free")
        XCTAssertEqual(org.features, "o:teams")
        let act = SessionClaims.organization(payload: Array(#"{"v":2,"act":7,"fea":"o:teams","o":{"id":"org_1","per":"read","fpm":"1"}}"#.utf8))
        XCTAssertEqual(act.problems.map(\.part), [.actor])
        XCTAssertEqual(act.problems.first?.reason, "actor_claim_invalid")
        XCTAssertEqual(act.permissions, ["org:teams:read"])
        let fea = SessionClaims.organization(payload: Array(#"{"v":2,"fea":7,"pla":"u:free","o":{"id":"org_1","per":"read","fpm":"1"}}"#.utf8))
        XCTAssertEqual(fea.problems.map(\.part), [.features, .organization], "no features, and no permissions from them")
        XCTAssertEqual(fea.plans, "u:free")
        XCTAssertNil(fea.id)
    }

    /// Cheap bounds no real instance reaches: exceeding one leaves the organization out, nothing else.
    func testFloodsAreBounded() {
        let names = (0..<4097).map { "p\($0)" }.joined(separator: ",")
        XCTAssertEqual(detail(#"{"v":2,"fea":"o:f","o":{"id":"org_1","per":"\#(names)","fpm":"1"}}"#), "per_too_many")
        let features = (0..<4097).map { "o:f\($0)" }.joined(separator: ",")
        XCTAssertEqual(detail(#"{"v":2,"fea":"\#(features)","o":{"id":"org_1","per":"read","fpm":"1"}}"#), "fea_too_many")
        // 2,049 permissions: 33 features with every one of 64 names, and one more.
        let many = (0..<64).map { "p\($0)" }.joined(separator: ",")
        let orgFeatures = (0..<33).map { "o:f\($0)" }.joined(separator: ",")
        let masks = Array(repeating: "18446744073709551615", count: 32).joined(separator: ",") + ",1"
        XCTAssertEqual(detail(#"{"v":2,"fea":"\#(orgFeatures)","o":{"id":"org_1","per":"\#(many)","fpm":"\#(masks)"}}"#), "org_permissions_too_many")
        let exactly = Array(repeating: "18446744073709551615", count: 32).joined(separator: ",") + ",0"
        let o = SessionClaims.organization(
            payload: Array(#"{"v":2,"act":{"sub":"user_a"},"fea":"\#(orgFeatures)","o":{"id":"org_1","per":"\#(many)","fpm":"\#(exactly)"}}"#.utf8))
        XCTAssertEqual(o.problems, [])
        XCTAssertEqual(o.permissions.count, 2048)
        let v1 = (0..<2049).map { #""org:f:p\#($0)""# }.joined(separator: ",")
        XCTAssertEqual(detail(#"{"org_id":"org_1","org_permissions":[\#(v1)]}"#), "org_permissions_too_many")
    }

    /// Elements split on the comma byte and lose what JavaScript's `trim()` strips, as the SDK's `split(',')` and
    /// `trim()` do: a combining mark after a comma does not hide it (a Swift `Character` would).
    func testElementsSplitOnBytesAndTrimAsJavaScriptDoes() throws {
        let o = try decode(#"{"v":2,"fea":"u:x, o:a\u00a0","o":{"id":"org_1","per":" read\u2028,\u0301w","fpm":"\t3\ufeff"}}"#)
        XCTAssertEqual(o.permissions.map { Array($0.unicodeScalars) }, [Array("org:a:read".unicodeScalars), Array("org:a:\u{301}w".unicodeScalars)])
        XCTAssertEqual(detail(#"{"v":2,"fea":"o:a","o":{"id":"org_1","per":"read","fpm":"3\u0085"}}"#), "fpm_not_a_number", "NEL is not trimmed")
        XCTAssertEqual(detail(#"{"v":2,"fea":"o:a,\u0301o:b","o":{"id":"org_1","per":"read","fpm":"1,1"}}"#), "fea_scope_unknown")
    }

    // MARK: Clerk's own fixtures, with their inputs and expected permissions (their order is the token's)

    /// `@clerk/shared` jwtPayloadParser.test.ts, "case 5": the masks pair with the org-scoped features only;
    /// a third mask for the user feature (as Clerk's Python SDK reads `fpm`, one per `fea` element) changes nothing.
    func testClerksCase5AUserFeatureLastAndAMaskPastTheLastOrgFeature() throws {
        let expected = [
            "org:repositories:read", "org:repositories:create", "org:repositories:update",
            "org:projects:read", "org:projects:update", "org:projects:revoke"
        ]
        for fpm in ["7,21", "7,21,0"] {
            let o = try decode(
                #"{"v":2,"fea":"o:repositories,uo:projects,u:goldprofileborder","o":{"id":"org_id","rol":"admin","slg":"org_slug","per":"read,create,update,delete,revoke","fpm":"\#(fpm)"}}"#
            )
            XCTAssertEqual(o.permissions, expected, fpm)
        }
    }

    /// clerk-sdk-python test_org_permissions_v2.py, test_user_scoped_features_are_skipped.
    func testClerksUserFeatureBeforeAnOrgFeature() throws {
        let o = try decode(#"{"v":2,"fea":"u:impersonation,o:leads","o":{"id":"org_1","per":"read,manage","fpm":"1,1"}}"#)
        XCTAssertEqual(o.permissions, ["org:leads:read"])
    }

    /// jwtPayloadParser.test.ts "org permissions are constructed correctly" (`fpm` `3`), with the user feature's
    /// mask added; and the Python SDK's test_more_masks_than_features_are_ignored.
    func testClerksMasksPastTheLastOrgFeatureAreIgnored() throws {
        for fpm in ["3", "3,0"] {
            let o = try decode(
                #"{"v":2,"fea":"ou:memberships,u:impersonation","o":{"id":"org_id","rol":"admin","slg":"org_slug","per":"read,manage","fpm":"\#(fpm)"}}"#
            )
            XCTAssertEqual(o.permissions, ["org:memberships:read", "org:memberships:manage"], fpm)
        }
        let leads = try decode(#"{"v":2,"fea":"o:leads","o":{"id":"org_1","per":"read,manage","fpm":"1,3"}}"#)
        XCTAssertEqual(leads.permissions, ["org:leads:read"])
    }

    /// `@clerk/backend` authObjects.test.ts "has() for billing with scopes" (three org features, two masks) and
    /// "has() for orgs" (two, one mask); jwtPayloadParser.test.ts "if a feature is not mapped to any permissions".
    func testClerksOrgFeaturesWithoutAMaskGetNothing() throws {
        let billing = try decode(
            #"{"v":2,"fea":"o:reservations,u:dashboard,uo:support-chat,o:impersonation","pla":"u:pro,o:business","o":{"id":"orgId","rol":"member","slg":"orgSlug","per":"read,manage","fpm":"2,3"}}"#
        )
        XCTAssertEqual(billing.permissions, ["org:reservations:manage", "org:support-chat:read", "org:support-chat:manage"])
        let orgs = try decode(
            #"{"v":2,"act":{"sub":"actor"},"fea":"o:reservations,o:impersonation","o":{"id":"orgId","rol":"admin","slg":"orgSlug","per":"read,manage","fpm":"3"}}"#
        )
        XCTAssertEqual(orgs.permissions, ["org:reservations:read", "org:reservations:manage"])
        XCTAssertEqual(orgs.actor, "actor")
        let three = try decode(
            #"{"v":2,"fea":"o:impersonation,o:memberships,o:feature3","o":{"id":"org_id","rol":"admin","slg":"org_slug","per":"read,manage","fpm":"1,3"}}"#
        )
        XCTAssertEqual(three.permissions, ["org:impersonation:read", "org:memberships:read", "org:memberships:manage"])
    }

    /// clerk-sdk-python test_decodes_bit_62 / _63 / beyond_64_bits: masks are arbitrary-size integers, read
    /// exactly (JavaScript's `Number.parseInt` would round past 2^53), and `per` may name any number of permissions.
    func testClerksMasksAreArbitrarySize() throws {
        let names = (0..<80).map { $0 < 10 ? "p0\($0)" : "p\($0)" }.joined(separator: ",")
        for (mask, bit) in [("4611686018427387905", "p62"), ("9223372036854775809", "p63"), ("4722366482869645213697", "p72")] {
            let o = try decode(#"{"v":2,"fea":"o:repositories","o":{"id":"org_1","per":"\#(names)","fpm":"\#(mask)"}}"#)
            XCTAssertEqual(o.permissions, ["org:repositories:p00", "org:repositories:\(bit)"], mask)
        }
    }

    /// clerk-sdk-python test_mask_wider_than_the_vocabulary_is_bounded: a set bit with no permission name grants
    /// nothing (an older `@clerk/shared` granted `org:repositories:undefined`).
    func testClerksBitWithoutAPermissionNameGrantsNothing() throws {
        let o = try decode(#"{"v":2,"fea":"o:repositories","o":{"id":"org_1","per":"read,manage","fpm":"1099511627777"}}"#)
        XCTAssertEqual(o.permissions, ["org:repositories:read"])
        XCTAssertEqual(try decode(#"{"v":2,"fea":"o:teams","o":{"id":"org_1","per":"read","fpm":"2"}}"#).permissions, [])
    }

    func testSixtyFourPermissionsUseEveryBit() throws {
        let names = (0..<64).map { "p\($0)" }.joined(separator: ",")
        let o = try decode(#"{"v":2,"fea":"o:f","o":{"id":"org_1","per":"\#(names)","fpm":"18446744073709551615"}}"#)
        XCTAssertEqual(o.permissions.count, 64)
        XCTAssertEqual(o.permissions.last, "org:f:p63")
    }
}
