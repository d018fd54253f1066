import ClerkFunctions
import ClerkKit
import JSON
import LambdaRuntime
import LocalHosting
import Store
import TestSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// `verifyToken` with organization claims: the context of every shape and the direct answer carry the
/// organization, plan, features and actor from v1 and v2 tokens alike; the route guards refuse by reason.
final class VerifyTokenOrganizationTests: XCTestCase {
    var tokens: TokenFixture!
    var db: PostgresConnection!
    var harness: LocalHarness!
    var logPath = ""

    override func setUpWithError() throws {
        tokens = try TokenFixture()
        db = try TestDatabase.connect()
        try TestDatabase.reset(db)
        harness = makeHarness()
    }

    // XCTest keeps every test case alive until the run ends: release the harness and its connections now.
    override func tearDown() {
        unlink(logPath)
        harness = nil
        db = nil
        tokens = nil
    }

    func makeHarness(_ extra: [String: String] = [:]) -> LocalHarness {
        logPath = "/tmp/clerk-verify-org-log-\(getpid())-\(Clock.monotonicNs())"
        let fd = open(logPath, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0o600)
        var env = ["DATABASE_URL": TestDatabase.url, "PROD_CLERK_ISSUER": tokens.issuer, "PROD_CLERK_JWKS_URL": tokens.jwksURL]
        for (k, v) in extra { env[k] = v }
        return LocalHarness(registry: Functions.registry, environment: Environment(env), logger: Logger(level: .debug, fd: fd))
    }

    var logs: String { logText(logPath) }

    /// Clerk's v1 example, with fresh times.
    func v1Token(
        sub: String = "user_org",
        org: String =
            #""org_id":"org_2b1M4kQz8RtY6wXc3nVp7LsJfGa","org_slug":"acme","org_role":"org:admin","org_permissions":["org:articles:read","org:articles:manage"]"#
    ) throws -> String {
        let now = Clock.nowSeconds()
        return try tokens.token(
            claims:
                #"{"sub":"\#(sub)","iss":"\#(tokens.issuer)","iat":\#(now),"nbf":\#(now - 10),"exp":\#(now + 60),"sid":"sess_2a7Q9cJx3LmT8vRk1pWn5yZbHdE","fva":[5,-1],"sts":"active"\#(org.isEmpty ? "" : "," + org)}"#
        )
    }

    /// Clerk's v2 example (the same organization), with fresh times.
    func v2Token(
        sub: String = "user_org",
        extra: String =
            #""fea":"o:articles,u:premium","pla":"u:free_user,o:pro","o":{"id":"org_2b1M4kQz8RtY6wXc3nVp7LsJfGa","slg":"acme","rol":"admin","per":"read,manage","fpm":"3"}"#
    ) throws -> String {
        try tokens.token(sub: sub, extra: extra)
    }

    func event(_ file: String, token: String) throws -> [UInt8] {
        Array(try BuiltProducts.event(file).text.replacingAll("DEV_SESSION_TOKEN", with: token).utf8)
    }

    func restRequest(_ token: String) -> [UInt8] {
        Array(
            #"{"type":"REQUEST","methodArn":"arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/me","headers":{"Authorization":"Bearer \#(token)"}}"#
                .utf8)
    }

    func invoke(_ event: [UInt8]) throws -> JSONValue { try JSONValue.parse(harness.invoke("verifyToken", event: event)) }

    func assertOrganization(
        _ context: JSONValue?, plan: String = "u:free_user,o:pro", features: String = "o:articles,u:premium",
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertEqual(context?["orgId"]?.stringValue, "org_2b1M4kQz8RtY6wXc3nVp7LsJfGa", file: file, line: line)
        XCTAssertEqual(context?["orgRole"]?.stringValue, "org:admin", file: file, line: line)
        XCTAssertEqual(context?["orgSlug"]?.stringValue, "acme", file: file, line: line)
        XCTAssertEqual(context?["orgPermissions"]?.stringValue, "org:articles:read,org:articles:manage", file: file, line: line)
        XCTAssertEqual(context?["plan"]?.stringValue, plan, file: file, line: line)
        XCTAssertEqual(context?["features"]?.stringValue, features, file: file, line: line)
    }

    func testEveryShapeCarriesTheV2Organization() throws {
        let token = try v2Token()
        assertOrganization(try invoke(event("verifyToken.http-api.token.json", token: token))["context"])
        assertOrganization(try invoke(event("verifyToken.rest-token.token.json", token: token))["context"])
        assertOrganization(try invoke(restRequest(token))["context"])
        let direct = try invoke(event("verifyToken.direct.token.json", token: token))
        XCTAssertEqual(direct["valid"]?.boolValue, true)
        assertOrganization(direct)
        XCTAssertEqual(direct["actor"]?.stringValue, "")
    }

    func testAV1TokenGivesTheSameOrganization() throws {
        let token = try v1Token()
        assertOrganization(try invoke(event("verifyToken.http-api.token.json", token: token))["context"], plan: "", features: "")
        assertOrganization(try invoke(event("verifyToken.rest-token.token.json", token: token))["context"], plan: "", features: "")
        assertOrganization(try invoke(event("verifyToken.direct.token.json", token: token)), plan: "", features: "")
    }

    func testClerksFpmExampleThroughARealToken() throws {
        let token = try v2Token(extra: #""fea":"o:dashboard,o:teams","o":{"id":"org_1","slg":"team","rol":"member","per":"manage,read","fpm":"3,2"}"#)
        let direct = try invoke(event("verifyToken.direct.token.json", token: token))
        XCTAssertEqual(direct["orgPermissions"]?.stringValue, "org:dashboard:manage,org:dashboard:read,org:teams:read")
        XCTAssertEqual(direct["orgRole"]?.stringValue, "org:member")
    }

    func testAnImpersonatedSessionNamesTheActor() throws {
        let token = try v2Token(extra: #""act":{"sub":"user_support","iss":"https://dashboard.clerk.com"}"#)
        let out = try invoke(event("verifyToken.http-api.token.json", token: token))
        XCTAssertEqual(out["context"]?["actor"]?.stringValue, "user_support")
        XCTAssertEqual(out["context"]?["orgId"]?.stringValue, "")
    }

    /// Without a guard, organization claims that do not parse are logged and left out: a change in Clerk's
    /// format must not sign everyone out. With a guard, they refuse the token.
    func testGarbageFpmIsIgnoredWithoutAGuardAndRefusedWithOne() throws {
        let token = try v2Token(extra: #""fea":"o:teams","o":{"id":"org_1","per":"read","fpm":"1.5e308"}"#)
        let open = try invoke(event("verifyToken.http-api.token.json", token: token))
        XCTAssertEqual(open["isAuthorized"]?.boolValue, true)
        XCTAssertEqual(open["context"]?["orgId"]?.stringValue, "", "no organization claimed from claims that do not parse")
        XCTAssertEqual(open["context"]?["orgPermissions"]?.stringValue, "")
        XCTAssertTrue(logs.contains("organization claims ignored"), logs)
        try db.query("TRUNCATE users CASCADE")
        harness = makeHarness(["CLERK_REQUIRED_PERMISSION": "org:teams:read"])
        let out = try invoke(event("verifyToken.http-api.token.json", token: token))
        XCTAssertEqual(out["isAuthorized"]?.boolValue, false)
        XCTAssertEqual(out["context"]?["reason"]?.stringValue, "org_claims_invalid")
        let direct = try invoke(event("verifyToken.direct.token.json", token: token))
        XCTAssertEqual(direct["reason"]?.stringValue, "org_claims_invalid")
        XCTAssertTrue(logs.contains("fpm_not_a_number"), logs)
        XCTAssertFalse(logs.contains(token), "the token is never logged")
        XCTAssertEqual(try db.query("SELECT count(*) AS n FROM users").first?.decode("n", as: Int.self), 0)
    }

    /// Clerk's fixtures that disagree on counts (`@clerk/backend` authObjects.test.ts: two org features, one mask;
    /// three, two) give Clerk's permissions through a real token, instead of a blank organization.
    func testClerksCountMismatchFixturesThroughARealToken() throws {
        let orgs = try v2Token(
            extra:
                #""act":{"sub":"actor"},"fea":"o:reservations,o:impersonation","o":{"id":"orgId","rol":"admin","slg":"orgSlug","per":"read,manage","fpm":"3"}"#
        )
        let out = try invoke(event("verifyToken.direct.token.json", token: orgs))
        XCTAssertEqual(out["orgId"]?.stringValue, "orgId")
        XCTAssertEqual(out["orgPermissions"]?.stringValue, "org:reservations:read,org:reservations:manage")
        let billing = try v2Token(
            extra:
                #""fea":"o:reservations,u:dashboard,uo:support-chat,o:impersonation","pla":"u:pro,o:business","o":{"id":"orgId","rol":"member","slg":"orgSlug","per":"read,manage","fpm":"2,3"}"#
        )
        let context = try XCTUnwrap(invoke(event("verifyToken.http-api.token.json", token: billing))["context"])
        XCTAssertEqual(context["orgPermissions"]?.stringValue, "org:reservations:manage,org:support-chat:read,org:support-chat:manage")
        XCTAssertEqual(context["plan"]?.stringValue, "u:pro,o:business")
        XCTAssertFalse(logs.contains("organization claims ignored"), logs)
        harness = makeHarness(["CLERK_REQUIRED_PERMISSION": "org:support-chat:manage"])
        XCTAssertEqual(try invoke(event("verifyToken.http-api.token.json", token: billing))["isAuthorized"]?.boolValue, true)
    }

    /// Organization claims that do not read leave out the organization only: the impersonation, plan and features
    /// are still in the context, so the API behind the authorizer still sees who is acting.
    func testAnOrganizationClaimsProblemKeepsActorPlanAndFeatures() throws {
        let token = try v2Token(
            extra:
                #""act":{"sub":"user_support"},"fea":"o:teams,u:premium","pla":"u:free_user","o":{"id":"org_1","rol":"admin","per":"read","fpm":"x"}"#
        )
        for file in ["verifyToken.http-api.token.json", "verifyToken.rest-token.token.json"] {
            let context = try XCTUnwrap(invoke(event(file, token: token))["context"], file)
            XCTAssertEqual(context["actor"]?.stringValue, "user_support", file)
            XCTAssertEqual(context["plan"]?.stringValue, "u:free_user", file)
            XCTAssertEqual(context["features"]?.stringValue, "o:teams,u:premium", file)
            XCTAssertEqual(context["orgId"]?.stringValue, "", file)
            XCTAssertEqual(context["orgRole"]?.stringValue, "", file)
            XCTAssertEqual(context["orgPermissions"]?.stringValue, "", file)
        }
        let direct = try invoke(event("verifyToken.direct.token.json", token: token))
        XCTAssertEqual(direct["valid"]?.boolValue, true)
        XCTAssertEqual(direct["actor"]?.stringValue, "user_support")
        XCTAssertTrue(logs.contains("fpm_not_a_number"), logs)
        harness = makeHarness(["CLERK_REQUIRE_ORG": "true"])
        XCTAssertEqual(try invoke(event("verifyToken.direct.token.json", token: token))["reason"]?.stringValue, "org_claims_invalid")
    }

    /// An `act` claim that cannot be read is an impersonation whose actor is unknown: refused with or without a
    /// guard, never passed on as a session nobody impersonates.
    func testAnActorClaimThatDoesNotReadIsRefused() throws {
        for act in [#""act":"user_support""#, #""act":{"iss":"https://dashboard.clerk.com"}"#, #""act":{"sub":7}"#] {
            let token = try v2Token(extra: act)
            let out = try invoke(event("verifyToken.http-api.token.json", token: token))
            XCTAssertEqual(out["isAuthorized"]?.boolValue, false, act)
            XCTAssertEqual(out["context"]?["reason"]?.stringValue, "actor_claim_invalid", act)
            XCTAssertEqual(try invoke(event("verifyToken.direct.token.json", token: token))["reason"]?.stringValue, "actor_claim_invalid", act)
        }
        XCTAssertTrue(logs.contains("actor_claim_invalid"), logs)
    }

    func testRequireOrgRefusesTokensWithoutAnActiveOrganization() throws {
        harness = makeHarness(["CLERK_REQUIRE_ORG": "true"])
        let none = try invoke(event("verifyToken.http-api.token.json", token: tokens.token(sub: "user_solo")))
        XCTAssertEqual(none["isAuthorized"]?.boolValue, false)
        XCTAssertEqual(none["context"]?["reason"]?.stringValue, "org_required")
        XCTAssertEqual(try invoke(event("verifyToken.direct.token.json", token: v1Token(org: "")))["reason"]?.stringValue, "org_required")
        XCTAssertThrowsError(try invoke(event("verifyToken.rest-token.token.json", token: tokens.token(sub: "user_solo"))))
        XCTAssertTrue(logs.contains("org_required"))
        XCTAssertEqual(try invoke(event("verifyToken.http-api.token.json", token: v2Token()))["isAuthorized"]?.boolValue, true)
        XCTAssertEqual(try invoke(event("verifyToken.http-api.token.json", token: v1Token()))["isAuthorized"]?.boolValue, true)
    }

    func testRequiredPermissionRefusesTokensWithoutIt() throws {
        harness = makeHarness(["CLERK_REQUIRED_PERMISSION": "org:articles:manage"])
        XCTAssertEqual(try invoke(event("verifyToken.http-api.token.json", token: v2Token()))["isAuthorized"]?.boolValue, true)
        XCTAssertEqual(try invoke(event("verifyToken.http-api.token.json", token: v1Token()))["isAuthorized"]?.boolValue, true)
        let readOnly = try v2Token(extra: #""fea":"o:articles","o":{"id":"org_1","rol":"member","per":"read,manage","fpm":"1"}"#)
        let out = try invoke(event("verifyToken.http-api.token.json", token: readOnly))
        XCTAssertEqual(out["isAuthorized"]?.boolValue, false)
        XCTAssertEqual(out["context"]?["reason"]?.stringValue, "permission_missing")
        XCTAssertEqual(try invoke(event("verifyToken.direct.token.json", token: tokens.token()))["reason"]?.stringValue, "permission_missing")
        XCTAssertTrue(logs.contains("permission_missing"))
    }

    /// Issue 21: a route may require a plan or a feature; the token's `pla`/`fea` are read as Clerk's `has()`
    /// reads them, in every shape, and a machine token never has one.
    func testRequiredPlanAndFeatureAsClerksHasReadsThem() throws {
        harness = makeHarness(["CLERK_REQUIRED_PLAN": "org:pro", "CLERK_REQUIRED_FEATURE": "premium"])
        let paying = try invoke(event("verifyToken.http-api.token.json", token: v2Token()))
        XCTAssertEqual(paying["isAuthorized"]?.boolValue, true, "\(paying)")
        XCTAssertEqual(paying["context"]?["plan"]?.stringValue, "u:free_user,o:pro")
        XCTAssertEqual(paying["context"]?["features"]?.stringValue, "o:articles,u:premium")
        let userPlanOnly = try v2Token(extra: #""fea":"u:premium","pla":"u:pro""#)
        let out = try invoke(event("verifyToken.http-api.token.json", token: userPlanOnly))
        XCTAssertEqual(out["isAuthorized"]?.boolValue, false)
        XCTAssertEqual(out["context"]?["reason"]?.stringValue, "plan_missing", "u:pro is not the organization's plan")
        let noFeature = try v2Token(extra: #""fea":"o:articles","pla":"o:pro""#)
        XCTAssertEqual(try invoke(event("verifyToken.direct.token.json", token: noFeature))["reason"]?.stringValue, "feature_missing")
        XCTAssertEqual(try invoke(event("verifyToken.direct.token.json", token: v1Token()))["reason"]?.stringValue, "plan_missing")
        XCTAssertTrue(logs.contains("plan_missing"))
    }

    func testBadGuardSettingsAreInitErrors() {
        for extra in [
            ["CLERK_REQUIRE_ORG": "yes"], ["CLERK_REQUIRED_PERMISSION": "articles:manage"],
            ["CLERK_REQUIRED_PERMISSION": "org::manage"], ["CLERK_REQUIRED_PLAN": "team:pro"], ["CLERK_REQUIRED_FEATURE": "org:"]
        ] {
            let h = makeHarness(extra)
            XCTAssertThrowsError(try h.invoke("verifyToken", event: Array(#"{"token":"x"}"#.utf8)), "\(extra)") { error in
                guard case .initFailed(let object)? = error as? HarnessError else { return XCTFail("\(error)") }
                XCTAssertEqual(object.errorType, "Runtime.ConfigError")
            }
        }
    }
}
