import ClerkKit
import DevTools
import JSON
import LambdaRuntime
import LocalHosting
import Store
import TestSupport
import XCTest

@testable import ClerkFunctions

#if canImport(Glibc)
    import Glibc
#endif

/// `verifyToken` with machine credentials: API keys, M2M tokens and OAuth access tokens, opaque (verified by
/// the Backend API stand-in) and JWT (verified locally); the type filter, scopes, the caches, Clerk's
/// failures, and that no token reaches a log line, an error or an answer.
final class VerifyTokenMachineTests: XCTestCase {
    var tokens: TokenFixture!
    var db: PostgresConnection!
    var standIn: ClerkAPIStandIn!
    var harness: LocalHarness!
    /// Every harness logs to a file of its own; `logs` reads them all.
    var logPaths: [String] = []
    /// Every token a test used, for the final leak check.
    var used: [String] = []
    /// Every error message and answer seen.
    var seen: [String] = []

    override func setUpWithError() throws {
        tokens = try TokenFixture()
        db = try TestDatabase.connect()
        try TestDatabase.reset(db)
        standIn = try ClerkAPIStandIn()
        harness = makeHarness()
    }

    override func tearDown() { for p in logPaths { unlink(p) } }

    func makeHarness(_ extra: [String: String] = [:]) -> LocalHarness {
        let logPath = "/tmp/clerk-machine-log-\(getpid())-\(Clock.monotonicNs())"
        logPaths.append(logPath)
        let fd = open(logPath, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0o600)
        var env = [
            "DATABASE_URL": TestDatabase.url, "PROD_CLERK_ISSUER": tokens.issuer, "PROD_CLERK_JWKS_URL": tokens.jwksURL,
            "PROD_CLERK_SECRET_KEY": standIn.secretKey, "CLERK_API_URL": standIn.baseURL,
            "CLERK_ACCEPTS_TOKEN": "any", "CLERK_MACHINE_TOKEN_TIMEOUT_MS": "600"
        ]
        for (k, v) in extra { env[k] = v }
        return LocalHarness(registry: Functions.registry, environment: Environment(env), logger: Logger(level: .debug, fd: fd))
    }

    var logs: String { logPaths.map { logText($0) }.joined() }

    func event(_ file: String, token: String) throws -> [UInt8] {
        used.append(token)
        return Array(try BuiltProducts.event(file).text.replacingAll("DEV_SESSION_TOKEN", with: token).utf8)
    }

    func invoke(_ file: String, _ token: String, on h: LocalHarness? = nil) throws -> JSONValue {
        do {
            let out = try (h ?? harness).invoke("verifyToken", event: event(file, token: token))
            seen.append(String(decoding: out, as: UTF8.self))
            return try JSONValue.parse(out)
        } catch {
            seen.append("\(error)")
            throw error
        }
    }

    func direct(_ token: String, on h: LocalHarness? = nil) throws -> JSONValue { try invoke("verifyToken.direct.token.json", token, on: h) }
    func simple(_ token: String, on h: LocalHarness? = nil) throws -> JSONValue { try invoke("verifyToken.http-api.token.json", token, on: h) }
    func rest(_ token: String, on h: LocalHarness? = nil) throws -> JSONValue { try invoke("verifyToken.rest-token.token.json", token, on: h) }

    func assertErrs(
        _ file: String, _ token: String, on h: LocalHarness? = nil, _ type: String = "AuthorizerUnavailable",
        line: UInt = #line
    ) {
        XCTAssertThrowsError(try invoke(file, token, on: h), line: line) { error in
            guard case .functionError(let object)? = error as? HarnessError else { return XCTFail("\(error)", line: line) }
            XCTAssertEqual(object.errorType, type, line: line)
        }
    }

    func internalId(_ sub: String) throws -> String? {
        try db.query("SELECT id::text AS id FROM users WHERE clerk_user_id = $1", [sub]).first?.decode("id", as: String.self)
    }

    /// A JWT M2M token signed with the fixture's key (the instance's JWKS).
    func m2mJWT(sub: String = "mch_2bots", scopes: [String] = ["mch_api"], ttl: Int64 = 600, signer: DevelopmentKey? = nil) throws -> String {
        let claims = DevelopmentKey.machineClaims(
            subject: sub, issuer: tokens.issuer, now: Clock.nowSeconds(), ttl: ttl, scopes: scopes,
            extra: #""tenant":"acme""#)
        return try tokens.token(claims: claims, header: tokens.key.m2mHeader(), signer: signer)
    }

    /// A JWT OAuth access token (`typ: at+jwt`) signed with the fixture's key.
    func oauthJWT(sub: String, scopes: [String] = ["profile", "email"], ttl: Int64 = 600) throws -> String {
        let claims = DevelopmentKey.machineClaims(
            subject: sub, issuer: tokens.issuer, now: Clock.nowSeconds(), ttl: ttl, scopes: scopes,
            clientId: "client_jwt")
        return try tokens.token(claims: claims, header: tokens.key.accessTokenHeader())
    }

    // MARK: Each type accepted

    func testAnAPIKeyForAUserPassesInEveryShapeWithOneCall() throws {
        let key = "ak_live_9fK2mQ7xR4tW8zP1cV6bN3hJ5sL0dG"
        standIn.addUser(id: "user_keyholder", email: "keys@example.com")
        standIn.addMachineToken(.apiKey, token: key, subject: "user_keyholder", scopes: ["read", "write"], claims: #"{"team":"blue"}"#)
        let out = try direct(key)
        XCTAssertEqual(out["valid"]?.boolValue, true)
        XCTAssertEqual(out["tokenType"]?.stringValue, "api_key")
        XCTAssertEqual(out["subject"]?.stringValue, "user_keyholder")
        XCTAssertEqual(out["scopes"]?.stringValue, "read,write")
        XCTAssertEqual(out["claims"]?["team"]?.stringValue, "blue")
        XCTAssertNil(out["clientId"], "clientId is for OAuth tokens")
        XCTAssertEqual(out["userId"]?.stringValue, try internalId("user_keyholder"), "a user subject resolves the internal id")
        XCTAssertNotNil(out["userId"]?.stringValue)
        XCTAssertEqual(
            try db.query("SELECT email FROM users WHERE clerk_user_id = 'user_keyholder'").first?.decode("email", as: String.self),
            "keys@example.com", "filled from the Backend API as for session tokens")

        let context = try XCTUnwrap(simple(key)["context"])
        XCTAssertEqual(context["tokenType"]?.stringValue, "api_key")
        XCTAssertEqual(context["subject"]?.stringValue, "user_keyholder")
        XCTAssertEqual(context["scopes"]?.stringValue, "read,write")
        XCTAssertEqual(context["userId"], out["userId"])
        let policy = try rest(key)
        XCTAssertEqual(policy["principalId"]?.stringValue, "user_keyholder")
        guard case .array(let list)? = policy["policyDocument"]?["Statement"] else { return XCTFail("no statement") }
        XCTAssertEqual(list.first?["Effect"]?.stringValue, "Allow")
        XCTAssertEqual(policy["context"]?["tokenType"]?.stringValue, "api_key")
        XCTAssertEqual(standIn.machineVerifyCalls, 1, "three checks within the TTL: one call")
        let verify = try XCTUnwrap(standIn.requests.first { $0.path == "/v1/api_keys/verify" })
        XCTAssertEqual(try JSONValue.parse(verify.body)["secret"]?.stringValue, key, "Clerk's body shape")
        XCTAssertEqual(verify.header("authorization"), "Bearer " + standIn.secretKey)
    }

    func testAnOrganizationAPIKeyCarriesNoUserId() throws {
        let key = "ak_live_orgKey7Yq2Lm9Xc4Vb8Nz1Ws5Ek3Rt6"
        standIn.addMachineToken(.apiKey, token: key, subject: "org_2b1M4kQz8RtY6wXc3nVp7LsJfGa", scopes: ["reports:read"])
        let out = try direct(key)
        XCTAssertEqual(out["valid"]?.boolValue, true)
        XCTAssertEqual(out["subject"]?.stringValue, "org_2b1M4kQz8RtY6wXc3nVp7LsJfGa")
        XCTAssertNil(out["userId"])
        XCTAssertNil(out["clerkUserId"])
        XCTAssertEqual(try db.query("SELECT count(*) AS n FROM users").first?.decode("n", as: Int.self), 0)
        XCTAssertEqual(try simple(key)["isAuthorized"]?.boolValue, true)
    }

    func testAnOpaqueM2MTokenPassesAndUsesTheMachineSecretKeyWhenSet() throws {
        let token = "mt_secret_7Hq2Zx9Lm4Vc8Nb1Ws5Ek3Rt6Yp0"
        standIn.machineSecretKey = "ak_machine_receiver_key"
        standIn.addMachineToken(
            .m2m, token: token, subject: "mch_2sender", scopes: ["mch_2receiver"], claims: #"{"job":"sync"}"#,
            expiration: Clock.nowMs() + 3_600_000)
        let h = makeHarness(["CLERK_MACHINE_SECRET_KEY": "ak_machine_receiver_key"])
        let out = try direct(token, on: h)
        XCTAssertEqual(out["valid"]?.boolValue, true)
        XCTAssertEqual(out["tokenType"]?.stringValue, "m2m_token")
        XCTAssertEqual(out["subject"]?.stringValue, "mch_2sender")
        XCTAssertEqual(out["scopes"]?.stringValue, "mch_2receiver")
        XCTAssertEqual(out["claims"]?["job"]?.stringValue, "sync")
        XCTAssertNil(out["userId"], "a machine is no user")
        let verify = try XCTUnwrap(standIn.requests.first { $0.path == "/v1/m2m_tokens/verify" })
        XCTAssertEqual(verify.header("authorization"), "Bearer ak_machine_receiver_key")
        XCTAssertEqual(try JSONValue.parse(verify.body)["token"]?.stringValue, token)
        // Without it, the instance's secret key verifies.
        XCTAssertEqual(try direct(token)["valid"]?.boolValue, true)
        XCTAssertEqual(standIn.requests.last { $0.path == "/v1/m2m_tokens/verify" }?.header("authorization"), "Bearer " + standIn.secretKey)
    }

    func testAnOpaqueOAuthAccessTokenPassesWithItsClientId() throws {
        let token = "oat_4Kd8Wq2Zm6Xn1Vb9Lc3Hs7Jt5Rp0"
        standIn.addUser(id: "user_oauth", email: "oauth@example.com")
        standIn.addMachineToken(.oauth, token: token, subject: "user_oauth", scopes: ["profile", "email"], clientId: "client_partner")
        let context = try XCTUnwrap(simple(token)["context"])
        XCTAssertEqual(context["tokenType"]?.stringValue, "oauth_token")
        XCTAssertEqual(context["clientId"]?.stringValue, "client_partner")
        XCTAssertEqual(context["scopes"]?.stringValue, "profile,email")
        XCTAssertEqual(context["clerkUserId"]?.stringValue, "user_oauth")
        XCTAssertEqual(context["userId"]?.stringValue, try internalId("user_oauth"))
        let verify = try XCTUnwrap(standIn.requests.first { $0.path == "/v1/oauth_applications/access_tokens/verify" })
        XCTAssertEqual(try JSONValue.parse(verify.body)["access_token"]?.stringValue, token)
    }

    func testJWTMachineTokensAreVerifiedLocallyWithoutACall() throws {
        let m2m = try m2mJWT()
        let out = try direct(m2m)
        XCTAssertEqual(out["valid"]?.boolValue, true, "\(out)")
        XCTAssertEqual(out["tokenType"]?.stringValue, "m2m_token")
        XCTAssertEqual(out["subject"]?.stringValue, "mch_2bots")
        XCTAssertEqual(out["scopes"]?.stringValue, "mch_api")
        XCTAssertEqual(out["claims"]?["tenant"]?.stringValue, "acme")
        XCTAssertNil(out["userId"])

        standIn.addUser(id: "user_jwt_oauth", email: nil)
        let oauth = try simple(oauthJWT(sub: "user_jwt_oauth"))
        XCTAssertEqual(oauth["isAuthorized"]?.boolValue, true, "\(oauth)")
        XCTAssertEqual(oauth["context"]?["tokenType"]?.stringValue, "oauth_token")
        XCTAssertEqual(oauth["context"]?["clientId"]?.stringValue, "client_jwt")
        XCTAssertEqual(oauth["context"]?["scopes"]?.stringValue, "profile,email")
        XCTAssertEqual(oauth["context"]?["userId"]?.stringValue, try internalId("user_jwt_oauth"))
        XCTAssertEqual(standIn.machineVerifyCalls, 0, "JWTs need no Backend API call")

        // The same strictness as session tokens.
        XCTAssertEqual(try direct(m2mJWT(ttl: -60))["reason"]?.stringValue, "token_expired")
        XCTAssertEqual(try direct(m2mJWT(signer: DevelopmentKey(keyId: "ins_test_1")))["reason"]?.stringValue, "signature_invalid")
        let noKid = try tokens.token(
            claims: DevelopmentKey.machineClaims(subject: "mch_x", issuer: tokens.issuer, now: Clock.nowSeconds()),
            header: #"{"alg":"RS256","typ":"JWT"}"#)
        XCTAssertEqual(try direct(noKid)["reason"]?.stringValue, "kid_missing")
        let hs = try tokens.token(
            claims: DevelopmentKey.machineClaims(subject: "mch_x", issuer: tokens.issuer, now: Clock.nowSeconds()),
            header: #"{"alg":"HS256","kid":"ins_test_1","typ":"at+jwt"}"#)
        XCTAssertEqual(try direct(hs)["reason"]?.stringValue, "alg_not_allowed")
        let foreign = try tokens.token(
            claims: DevelopmentKey.machineClaims(subject: "mch_x", issuer: "https://evil.example", now: Clock.nowSeconds()),
            header: tokens.key.m2mHeader())
        XCTAssertEqual(try direct(foreign)["reason"]?.stringValue, "issuer_mismatch")
    }

    func testSignTokenMintsMachineJWTsThatVerify() throws {
        let key = try DevelopmentKey()
        let keyPath = "/tmp/clerk-machine-cli-\(getpid()).pem"
        let fd = open(keyPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        FileIO.write(fd: fd, key.privatePEM)
        close(fd)
        defer { unlink(keyPath) }
        func sign(_ args: [String]) throws -> (code: Int32, out: String, err: String) {
            let r = try Subprocess.run(
                path: BuiltProducts.clerkFunctions, arguments: ["sign-token", "--key", keyPath] + args,
                environment: childEnvironment([:]))
            return (r.exit.code, r.stdout.text.trimmingWhitespace(), r.stderr.text)
        }
        let m2m = try sign(["--m2m", "--sub", "mch_cli", "--scopes", "mch_a,mch_b"])
        XCTAssertEqual(m2m.code, 0, m2m.err)
        let oauth = try sign(["--oauth", "--sub", "user_cli", "--scopes", "profile", "--client-id", "client_cli"])
        XCTAssertEqual(oauth.code, 0, oauth.err)
        XCTAssertNotEqual(try sign(["--m2m", "--sub", "user_cli"]).code, 0, "an M2M token's subject is a machine")
        XCTAssertNotEqual(try sign(["--m2m", "--oauth", "--sub", "mch_cli"]).code, 0)
        used += [m2m.out, oauth.out]
        // The development key as the single instance's key (CLERK_JWT_KEY), M2M and OAuth tokens accepted.
        standIn.addUser(id: "user_cli", email: nil)
        let h = makeHarness([
            "PROD_CLERK_ISSUER": "", "PROD_CLERK_JWKS_URL": "", "CLERK_JWT_KEY": key.publicPEM,
            "CLERK_ACCEPTS_TOKEN": "m2m_token,oauth_token"
        ])
        let a = try direct(m2m.out, on: h)
        XCTAssertEqual(a["valid"]?.boolValue, true, "\(a)")
        XCTAssertEqual(a["tokenType"]?.stringValue, "m2m_token")
        XCTAssertEqual(a["scopes"]?.stringValue, "mch_a,mch_b")
        let b = try direct(oauth.out, on: h)
        XCTAssertEqual(b["valid"]?.boolValue, true, "\(b)")
        XCTAssertEqual(b["clientId"]?.stringValue, "client_cli")
        XCTAssertEqual(b["userId"]?.stringValue, try internalId("user_cli"))
    }

    // MARK: Refused

    func testRevokedExpiredAndUnknownOpaqueTokensAreRefused() throws {
        standIn.addMachineToken(.apiKey, token: "ak_revoked_Qw3Er5Ty7Ui9Op1As", subject: "user_r", revoked: true)
        standIn.addMachineToken(.m2m, token: "mt_expired_Zx2Cv4Bn6Mm8Lk0Jh", subject: "mch_e", expired: true)
        standIn.addMachineToken(.oauth, token: "oat_lapsed_Gf3Ds5Aq7We9Rt1Yu", subject: "user_l", expiration: Clock.nowMs() - 1000)
        XCTAssertEqual(try direct("ak_revoked_Qw3Er5Ty7Ui9Op1As"), .object(["valid": .bool(false), "reason": .string("token_revoked")]))
        XCTAssertEqual(try direct("mt_expired_Zx2Cv4Bn6Mm8Lk0Jh")["reason"]?.stringValue, "token_expired")
        XCTAssertEqual(try direct("oat_lapsed_Gf3Ds5Aq7We9Rt1Yu")["reason"]?.stringValue, "token_expired", "an expiration in the past")
        XCTAssertEqual(try direct("ak_unknown_Pl2Ok4Ij6Uh8Yg0Tf")["reason"]?.stringValue, "token_invalid", "404")
        let denied = try simple("ak_revoked_Qw3Er5Ty7Ui9Op1As")
        XCTAssertEqual(denied["isAuthorized"]?.boolValue, false)
        XCTAssertEqual(denied["context"]?["reason"]?.stringValue, "token_revoked")
        assertErrs("verifyToken.rest-token.token.json", "ak_unknown_Pl2Ok4Ij6Uh8Yg0Tf", "Unauthorized")
        XCTAssertEqual(standIn.machineVerifyCalls, 4, "refusals are remembered too")
        // Not Clerk's alphabet: refused without a call (nothing to bill).
        XCTAssertEqual(try direct(#"ak_has space\u0000"#)["reason"]?.stringValue, "token_invalid")
        XCTAssertEqual(try direct("ak_" + String(repeating: "x", count: 600))["reason"]?.stringValue, "token_invalid")
        XCTAssertEqual(standIn.machineVerifyCalls, 4)
        XCTAssertEqual(try db.query("SELECT count(*) AS n FROM users").first?.decode("n", as: Int.self), 0)
        XCTAssertTrue(logs.contains(#""reason":"token_revoked""#))
        XCTAssertTrue(logs.contains(#""tokenType":"api_key""#))
    }

    func testATypeNotAcceptedIsRefusedWithoutACall() throws {
        let key = "ak_live_notAccepted1Xy2Zw3Vu4Ts5"
        standIn.addMachineToken(.apiKey, token: key, subject: "org_x")
        standIn.addUser(id: "user_session", email: nil)
        let sessionOnly = makeHarness(["CLERK_ACCEPTS_TOKEN": ""])  // unset: the default, session tokens alone
        XCTAssertEqual(try direct(key, on: sessionOnly)["reason"]?.stringValue, "token_type_not_accepted")
        XCTAssertEqual(try direct(m2mJWT(), on: sessionOnly)["reason"]?.stringValue, "token_type_not_accepted")
        XCTAssertEqual(try direct(oauthJWT(sub: "user_o"), on: sessionOnly)["reason"]?.stringValue, "token_type_not_accepted")
        XCTAssertEqual(try direct(tokens.token(sub: "user_session"), on: sessionOnly)["valid"]?.boolValue, true)
        XCTAssertTrue(logs.contains(#""reason":"token_type_not_accepted""#))

        let keysOnly = makeHarness(["CLERK_ACCEPTS_TOKEN": "api_key"])
        XCTAssertEqual(try direct(tokens.token(sub: "user_session"), on: keysOnly)["reason"]?.stringValue, "token_type_not_accepted")
        XCTAssertEqual(try direct("mt_secret_Abc123Def456Ghi789", on: keysOnly)["reason"]?.stringValue, "token_type_not_accepted")
        XCTAssertEqual(try direct(key, on: keysOnly)["valid"]?.boolValue, true)

        let both = makeHarness(["CLERK_ACCEPTS_TOKEN": " session_token , m2m_token "])
        XCTAssertEqual(try direct(key, on: both)["reason"]?.stringValue, "token_type_not_accepted")
        XCTAssertEqual(try direct(m2mJWT(), on: both)["valid"]?.boolValue, true)
        XCTAssertEqual(standIn.machineVerifyCalls, 1, "only the accepted API key was asked about")
    }

    func testConfigurationErrorsFailAtInit() {
        for extra in [
            ["CLERK_ACCEPTS_TOKEN": "api_keys"], ["CLERK_ACCEPTS_TOKEN": "session_token,jwt"], ["CLERK_ACCEPTS_TOKEN": ","],
            ["CLERK_MACHINE_TOKEN_CACHE_TTL": "-1"], ["CLERK_MACHINE_TOKEN_NEGATIVE_TTL": "ten"],
            ["PROD_CLERK_SECRET_KEY": ""]
        ] {
            let h = makeHarness(extra)
            XCTAssertThrowsError(try h.invoke("verifyToken", event: Array(#"{"token":"x"}"#.utf8)), "\(extra)") { error in
                guard case .initFailed(let object)? = error as? HarnessError else { return XCTFail("\(extra): \(error)") }
                XCTAssertEqual(object.errorType, "Runtime.ConfigError", "\(extra)")
            }
        }
        // M2M tokens alone can do with the machine's secret key.
        let machineOnly = makeHarness([
            "PROD_CLERK_SECRET_KEY": "", "CLERK_ACCEPTS_TOKEN": "m2m_token",
            "CLERK_MACHINE_SECRET_KEY": "ak_machine_only"
        ])
        XCTAssertNoThrow(try machineOnly.invoke("verifyToken", event: Array(#"{"token":"x"}"#.utf8)))
    }

    func testRequiredScopesRefuseMachineTokensMissingAny() throws {
        standIn.addMachineToken(.apiKey, token: "ak_partial_Scope1Aa2Bb3Cc4Dd", subject: "org_s", scopes: ["read"])
        standIn.addMachineToken(.apiKey, token: "ak_full_Scope5Ee6Ff7Gg8Hh9Ii", subject: "org_s", scopes: ["write", "read", "admin"])
        standIn.addUser(id: "user_session_no_scopes", email: nil)
        let h = makeHarness(["CLERK_REQUIRED_SCOPES": "read, write"])
        XCTAssertEqual(try direct("ak_partial_Scope1Aa2Bb3Cc4Dd", on: h), .object(["valid": .bool(false), "reason": .string("scope_missing")]))
        XCTAssertEqual(try simple("ak_partial_Scope1Aa2Bb3Cc4Dd", on: h)["context"]?["reason"]?.stringValue, "scope_missing")
        XCTAssertEqual(try direct("ak_full_Scope5Ee6Ff7Gg8Hh9Ii", on: h)["valid"]?.boolValue, true)
        XCTAssertEqual(try direct(m2mJWT(scopes: ["read"]), on: h)["reason"]?.stringValue, "scope_missing")
        XCTAssertEqual(try direct(m2mJWT(scopes: ["read", "write"]), on: h)["valid"]?.boolValue, true)
        XCTAssertEqual(
            try direct(tokens.token(sub: "user_session_no_scopes"), on: h)["valid"]?.boolValue, true,
            "session tokens have no scopes to require")
        XCTAssertTrue(logs.contains(#""missing":"write""#))
    }

    /// Clerk's SDK grants a machine token no active organization and no organization permission (`has()` is
    /// false for it), so with `CLERK_REQUIRE_ORG` or `CLERK_REQUIRED_PERMISSION` on, every machine type, opaque
    /// or JWT, is refused in every answer shape, before any billed call; a session token with the permission
    /// still passes next to them.
    func testOrganizationGuardsRefuseEveryMachineTokenInEveryShape() throws {
        let key = "ak_live_guardedKey1Aa2Bb3Cc4Dd5"
        let opaqueM2M = "mt_secret_guardedM2m1Ee2Ff3Gg4"
        let opaqueOAuth = "oat_guardedOAuth1Hh2Ii3Jj4Kk5"
        standIn.addUser(id: "user_guarded", email: "guarded@example.com")
        standIn.addMachineToken(.apiKey, token: key, subject: "user_guarded", scopes: ["read"])
        standIn.addMachineToken(.m2m, token: opaqueM2M, subject: "mch_guarded")
        standIn.addMachineToken(.oauth, token: opaqueOAuth, subject: "user_guarded", clientId: "client_guarded")
        let machineTokens = [
            ("api_key", key), ("m2m_token", opaqueM2M), ("oauth_token", opaqueOAuth),
            ("m2m_token", try m2mJWT()), ("oauth_token", try oauthJWT(sub: "user_guarded"))
        ]
        let permission = "org:articles:manage"
        for (guards, reason) in [
            (["CLERK_REQUIRED_PERMISSION": permission], "permission_missing"), (["CLERK_REQUIRE_ORG": "true"], "org_required"),
            (["CLERK_REQUIRE_ORG": "true", "CLERK_REQUIRED_PERMISSION": permission], "org_required")
        ] {
            let h = makeHarness(guards)
            for (type, token) in machineTokens {
                let at = "\(type) with \(guards.keys.sorted())"
                XCTAssertEqual(try direct(token, on: h), .object(["valid": .bool(false), "reason": .string(reason)]), at)
                let answer = try simple(token, on: h)
                XCTAssertEqual(answer["isAuthorized"]?.boolValue, false, at)
                XCTAssertEqual(answer["context"]?["reason"]?.stringValue, reason, at)
                assertErrs("verifyToken.rest-token.token.json", token, on: h, "Unauthorized")
            }
            for type in ["api_key", "m2m_token", "oauth_token"] {
                XCTAssertTrue(
                    logs.split(separator: "\n").contains { $0.contains(#""reason":"\#(reason)""#) && $0.contains(#""tokenType":"\#(type)""#) },
                    "a log line names \(reason) and \(type)")
            }
            let member = try tokens.token(
                sub: "user_guarded", extra: #""o":{"id":"org_1","rol":"admin","per":"manage","fpm":"1"},"fea":"o:articles""#)
            XCTAssertEqual(try direct(member, on: h)["valid"]?.boolValue, true, "a session token with the organization and permission")
        }
        XCTAssertEqual(standIn.machineVerifyCalls, 0, "refused before any billed call: no answer of Clerk's could let it pass")
        XCTAssertTrue(logs.contains(#""reason":"org_guard_refuses_machine_tokens""#), "said once at init")
    }

    // MARK: Caches

    func testTheCachesEndWithTheirTTLs() throws {
        let key = "ak_live_cacheTtl1Qq2Ww3Ee4Rr5Tt"
        standIn.addMachineToken(.apiKey, token: key, subject: "org_c")
        let h = makeHarness(["CLERK_MACHINE_TOKEN_CACHE_TTL": "1", "CLERK_MACHINE_TOKEN_NEGATIVE_TTL": "1"])
        XCTAssertEqual(try direct(key, on: h)["valid"]?.boolValue, true)
        XCTAssertEqual(try direct("ak_unknown_cache1Zz2Xx3Cc4Vv5", on: h)["reason"]?.stringValue, "token_invalid")
        // Revoked at Clerk, and a previously unknown token created there.
        standIn.addMachineToken(.apiKey, token: key, subject: "org_c", revoked: true)
        standIn.addMachineToken(.apiKey, token: "ak_unknown_cache1Zz2Xx3Cc4Vv5", subject: "org_c")
        XCTAssertEqual(try direct(key, on: h)["valid"]?.boolValue, true, "within the TTL the cached answer stands")
        XCTAssertEqual(try direct("ak_unknown_cache1Zz2Xx3Cc4Vv5", on: h)["reason"]?.stringValue, "token_invalid")
        XCTAssertEqual(standIn.machineVerifyCalls, 2)
        usleep(1_100_000)
        XCTAssertEqual(try direct(key, on: h)["reason"]?.stringValue, "token_revoked", "after the TTL the revocation shows")
        XCTAssertEqual(try direct("ak_unknown_cache1Zz2Xx3Cc4Vv5", on: h)["valid"]?.boolValue, true, "refusals are kept for the negative TTL only")
        XCTAssertEqual(standIn.machineVerifyCalls, 4)
    }

    func testACachedAnswerEndsAtTheTokensExpiration() throws {
        let token = "mt_secret_shortLived1Aa2Bb3Cc4"
        standIn.addMachineToken(.m2m, token: token, subject: "mch_s", expiration: Clock.nowMs() + 900)
        XCTAssertEqual(try direct(token)["valid"]?.boolValue, true)
        XCTAssertEqual(try direct(token)["valid"]?.boolValue, true)
        XCTAssertEqual(standIn.machineVerifyCalls, 1)
        usleep(1_000_000)
        XCTAssertEqual(try direct(token)["reason"]?.stringValue, "token_expired", "the 60 s TTL does not outlive the token")
        XCTAssertEqual(standIn.machineVerifyCalls, 2)
    }

    func testConcurrentFirstChecksInAWarmContainerMakeOneCall() throws {
        let token = "ak_live_singleFlight1Aa2Bb3Cc4"
        standIn.addMachineToken(.apiKey, token: token, subject: "org_sf")
        standIn.delayMs = 300
        let api = try ClerkBackendAPI(baseURL: standIn.baseURL, secretKey: standIn.secretKey)
        let keys = JWKSCache(source: .remote(url: tokens.jwksURL, headers: []), logger: Logger(level: .critical))
        let verifier = MachineTokenVerifier(
            instances: [.init(environment: "production", api: api)],
            jwtVerifier: TokenVerifier(instances: [.init(issuer: nil, environment: "production", keys: keys)]))
        let workers = 8
        let done = ConditionLock()
        final class Box: @unchecked Sendable { var subjects: [String] = [] }
        let box = Box()
        for _ in 0..<workers {
            Threads.detach {
                let subject = (try? verifier.verify(token, type: .apiKey, nowMs: Clock.nowMs()))?.subject ?? "error"
                done.withLock { box.subjects.append(subject) }
                done.broadcast()
            }
        }
        XCTAssertTrue(done.wait(timeoutMs: 30_000) { box.subjects.count == workers })
        XCTAssertEqual(box.subjects, Array(repeating: "org_sf", count: workers))
        XCTAssertEqual(standIn.machineVerifyCalls, 1)
        XCTAssertEqual(verifier.apiCalls, 1)
    }

    /// A lookup that finds `maxConcurrentLookups` others in progress fails fast instead of queueing for the
    /// Backend API client; checks of the token already being looked up wait for that answer instead.
    func testLookupsBeyondTheConcurrencyCapAreRefusedAtOnce() throws {
        let slow = "ak_live_slowOne1Aa2Bb3Cc4Dd5Ee"
        let second = "ak_live_slowTwo1Aa2Bb3Cc4Dd5Ee"
        standIn.addMachineToken(.apiKey, token: slow, subject: "org_1")
        standIn.addMachineToken(.apiKey, token: second, subject: "org_2")
        standIn.delayMs = 2000
        let api = try ClerkBackendAPI(baseURL: standIn.baseURL, secretKey: standIn.secretKey)
        let keys = JWKSCache(source: .remote(url: tokens.jwksURL, headers: []), logger: Logger(level: .critical))
        let v = MachineTokenVerifier(
            instances: [.init(environment: "production", api: api)],
            jwtVerifier: TokenVerifier(instances: [.init(issuer: nil, environment: "production", keys: keys)]),
            callBudgetMs: 8000, maxConcurrentLookups: 2)
        let done = ConditionLock()
        final class Box: @unchecked Sendable { var subjects: [String] = [] }
        let box = Box()
        func start(_ token: String) {
            Threads.detach {
                let subject = (try? v.verify(token, type: .apiKey, nowMs: Clock.nowMs()))?.subject ?? "error"
                done.withLock { box.subjects.append(subject) }
                done.broadcast()
            }
        }
        /// Polls state no thread signals (the stand-in's log, the verifier's count), with a bound.
        func eventually(_ condition: () -> Bool) -> Bool {
            for _ in 0..<10_000 where !condition() { usleep(1000) }
            return condition()
        }
        start(slow)
        XCTAssertTrue(eventually { standIn.requests.count == 1 }, "the first lookup is at Clerk")
        start(second)
        start(slow)  // the same token: joins, does not take a place
        XCTAssertTrue(eventually { v.lookupsInProgress == 2 }, "the second waits for the client")
        XCTAssertThrowsError(try v.verify("ak_live_slowThree1Aa2Bb3Cc4Dd", type: .apiKey, nowMs: Clock.nowMs())) { error in
            XCTAssertEqual((error as? MachineTokenError)?.reason, "lookups_throttled")
            XCTAssertEqual((error as? MachineTokenError)?.isInfrastructure, true)
        }
        XCTAssertTrue(done.wait(timeoutMs: 30_000) { box.subjects.count == 3 })
        XCTAssertEqual(box.subjects.sorted(), ["org_1", "org_1", "org_2"])
        XCTAssertEqual(standIn.machineVerifyCalls, 2, "the third check was refused before any call")
        XCTAssertEqual(v.lookupsInProgress, 0)
    }

    func testTwoContainersResolveOneUserRowForAUserKey() throws {
        let key = "ak_live_twoContainers1Aa2Bb3Cc"
        standIn.addUser(id: "user_two", email: "two@example.com")
        standIn.addMachineToken(.apiKey, token: key, subject: "user_two")
        let done = ConditionLock()
        final class Box: @unchecked Sendable { var ids: [String] = [] }
        let box = Box()
        let (issuer, jwks, api, secret) = (tokens.issuer, tokens.jwksURL, standIn.baseURL, standIn.secretKey)
        for _ in 0..<4 {
            // Each worker is a container of its own: own harness, connection, caches and API client.
            Threads.detach {
                let h = LocalHarness(
                    registry: Functions.registry,
                    environment: Environment([
                        "DATABASE_URL": TestDatabase.url, "PROD_CLERK_ISSUER": issuer, "PROD_CLERK_JWKS_URL": jwks,
                        "PROD_CLERK_SECRET_KEY": secret, "CLERK_API_URL": api, "CLERK_ACCEPTS_TOKEN": "api_key"
                    ]), logger: Logger(level: .error))
                var id = "error"
                if let out = try? h.invoke("verifyToken", event: Array(#"{"token":"\#(key)"}"#.utf8)),
                    let v = try? JSONValue.parse(out), let userId = v["userId"]?.stringValue
                {
                    id = userId
                }
                done.withLock { box.ids.append(id) }
                done.broadcast()
            }
        }
        XCTAssertTrue(done.wait(timeoutMs: 60_000) { box.ids.count == 4 })
        XCTAssertEqual(Set(box.ids).count, 1, "\(box.ids)")
        XCTAssertFalse(box.ids.contains("error"))
        XCTAssertEqual(try db.query("SELECT count(*) AS n FROM users WHERE clerk_user_id = 'user_two'").first?.decode("n", as: Int.self), 1)
    }

    // MARK: Clerk failing

    func testAnOutageIsAnErrorNotADenialAndIsNotCached() throws {
        let key = "ak_live_outage1Aa2Bb3Cc4Dd5Ee"
        standIn.addMachineToken(.apiKey, token: key, subject: "org_o")
        for _ in 0..<40 { standIn.cue(503) }
        assertErrs("verifyToken.http-api.token.json", key)
        assertErrs("verifyToken.rest-token.token.json", key)
        XCTAssertEqual(try direct(key), .object(["valid": .bool(false), "reason": .string("clerk_api_unavailable")]))
        XCTAssertTrue(logs.contains(#""reason":"clerk_api_unavailable""#))
        XCTAssertGreaterThan(standIn.machineVerifyCalls, 3, "503s were retried")
        standIn.clearCues()
        XCTAssertEqual(try direct(key)["valid"]?.boolValue, true, "Clerk is back: the outage was not remembered")
        // Nothing listening at all.
        let gone = try ClerkAPIStandIn(secretKey: standIn.secretKey)
        gone.server.stop()
        let h = makeHarness(["CLERK_API_URL": gone.baseURL])
        XCTAssertEqual(try direct(key, on: h)["reason"]?.stringValue, "clerk_api_unavailable")
        assertErrs("verifyToken.http-api.token.json", key, on: h)
    }

    func testClerkRefusingOurSecretKeyIsAnErrorNotADenial() throws {
        let key = "ak_live_wrongSecret1Aa2Bb3Cc4"
        standIn.addMachineToken(.apiKey, token: key, subject: "org_w")
        let h = makeHarness(["PROD_CLERK_SECRET_KEY": "sk_test_not_the_one"])
        assertErrs("verifyToken.http-api.token.json", key, on: h)
        assertErrs("verifyToken.rest-token.token.json", key, on: h)
        XCTAssertEqual(try direct(key, on: h)["reason"]?.stringValue, "clerk_api_unauthorized")
        XCTAssertEqual(standIn.machineVerifyCalls, 3, "a configuration error is never cached")
        XCTAssertTrue(logs.contains(#""reason":"clerk_api_unauthorized""#))
        XCTAssertFalse(logs.contains("sk_test_not_the_one"), "nor is the secret key logged")
    }

    /// Clerk's own fixture key shape (`ak_` + 44 characters of standard base64) was refused as
    /// `token_invalid` without asking Clerk.
    func testAKeyInClerksBase64AlphabetPasses() throws {
        let key = "ak_LCWGdaM8mv8K4PC/57IICZQXAeWfCgF30DZaFXHoGn9="
        standIn.addMachineToken(.apiKey, token: key, subject: "org_2b1M4kQz8RtY6wXc3nVp7LsJfGa", scopes: ["reports:read"])
        let out = try direct(key)
        XCTAssertEqual(out["valid"]?.boolValue, true, "\(out)")
        XCTAssertEqual(out["subject"]?.stringValue, "org_2b1M4kQz8RtY6wXc3nVp7LsJfGa")
        XCTAssertEqual(try simple(key)["isAuthorized"]?.boolValue, true)
        XCTAssertEqual(standIn.machineVerifyCalls, 1)
        // Still refused without a call: what cannot occur in a token Clerk issues.
        XCTAssertEqual(try direct("ak_LCWGdaM8mv8K4PC/57IICZQX'AeWfCgF30DZaFXHoGn9=")["reason"]?.stringValue, "token_invalid")
        XCTAssertEqual(try direct("ak_LCWGdaM8mv8K4PC/57IICZQXAeWfCgF30DZaFXHoGn9=\u{00e9}")["reason"]?.stringValue, "token_invalid")
        XCTAssertEqual(standIn.machineVerifyCalls, 1)
    }

    /// A 400 or 422 from a verify endpoint refuses our request (an API version Clerk no longer accepts, a body
    /// shape), not the token: it was cached as `token_invalid` for the negative TTL, denying valid keys.
    func testA400Or422FromAVerifyEndpointIsAnErrorNotADenial() throws {
        for status in [400, 422] {
            let key = "ak_live_clerk\(status)_1Aa2Bb3Cc4Dd5Ee"
            standIn.addMachineToken(.apiKey, token: key, subject: "org_r")
            standIn.cue(status)
            assertErrs("verifyToken.http-api.token.json", key)
            standIn.cue(status)
            assertErrs("verifyToken.rest-token.token.json", key)
            standIn.cue(status)
            XCTAssertEqual(try direct(key), .object(["valid": .bool(false), "reason": .string("clerk_api_rejected")]), "\(status)")
            XCTAssertEqual(try direct(key)["valid"]?.boolValue, true, "\(status) was not remembered as a refusal")
        }
        XCTAssertEqual(standIn.machineVerifyCalls, 8)
        XCTAssertTrue(logs.contains(#""reason":"clerk_api_rejected""#))
        XCTAssertTrue(logs.contains(#""clerkCode":"cued""#), "Clerk's errors[0].code is logged")
        XCTAssertTrue(logs.contains(#""detail":"Clerk answered HTTP 422""#))
    }

    // MARK: Clerk's quota

    /// Clerk answering 429: until its `Retry-After` has passed, uncached checks fail fast (the authorizer errs,
    /// the direct shape says `clerk_api_rate_limited`) and no request reaches Clerk; cached tokens still pass.
    func testA429StopsUncachedLookupsAndCachedTokensStillPass() throws {
        let cached = "ak_live_quotaCached1Aa2Bb3Cc4Dd"
        let fresh = "ak_live_quotaFresh1Ee2Ff3Gg4Hh5"
        standIn.addMachineToken(.apiKey, token: cached, subject: "org_q")
        standIn.addMachineToken(.apiKey, token: fresh, subject: "org_q")
        XCTAssertEqual(try direct(cached)["valid"]?.boolValue, true)
        standIn.cue(429, retryAfter: "30")
        XCTAssertEqual(try direct(fresh), .object(["valid": .bool(false), "reason": .string("clerk_api_rate_limited")]))
        let asked = standIn.requests.count
        XCTAssertEqual(asked, 2, "the 429 was not waited out and retried")
        assertErrs("verifyToken.http-api.token.json", fresh)
        assertErrs("verifyToken.rest-token.token.json", "ak_live_quotaJunk1Ii2Jj3Kk4Ll5Mm")
        for i in 0..<20 {
            XCTAssertEqual(try direct("ak_live_quotaJunk\(i)_Nn2Oo3Pp4Qq5")["reason"]?.stringValue, "clerk_api_rate_limited")
        }
        XCTAssertEqual(standIn.requests.count, asked, "no request while Clerk is limiting")
        XCTAssertEqual(try direct(cached)["valid"]?.boolValue, true, "a cached token still passes")
        XCTAssertEqual(try simple(cached)["isAuthorized"]?.boolValue, true)
        XCTAssertTrue(logs.contains(#""reason":"clerk_api_rate_limited""#))
    }

    /// The settings are read at init: a value that is not a whole number in range, or a misspelt name, is an
    /// init error naming the variable.
    func testLookupLimitsAreCheckedAtInit() throws {
        for (name, value) in [
            ("CLERK_MACHINE_TOKEN_LOOKUPS_PER_SECOND", "0"), ("CLERK_MACHINE_TOKEN_LOOKUPS_PER_SECOND", "ten"),
            ("CLERK_MACHINE_TOKEN_LOOKUPS_PER_SECOND", "100000"), ("CLERK_MACHINE_TOKEN_MAX_CONCURRENT_LOOKUPS", "0"),
            ("CLERK_MACHINE_TOKEN_MAX_CONCURRENT_LOOKUPS", "4.5"), ("CLERK_MACHINE_TOKEN_LOOKUP_PER_SECOND", "5"),
            ("CLERK_MACHINE_TOKEN_MAX_CONCURENT_LOOKUPS", "2")
        ] {
            let h = makeHarness([name: value])
            XCTAssertThrowsError(try h.invoke("verifyToken", event: Array(#"{"token":"x"}"#.utf8)), name) { error in
                guard case .initFailed(let object)? = error as? HarnessError else { return XCTFail("\(name): \(error)") }
                XCTAssertEqual(object.errorType, "Runtime.ConfigError", name)
                XCTAssertTrue(object.errorMessage.hasPrefix(name + " is invalid"), object.errorMessage)
            }
        }
        let keys = TokenVerifier(instances: [
            .init(
                issuer: nil, environment: "production",
                keys: JWKSCache(
                    source: .remote(url: tokens.jwksURL, headers: []), logger: Logger(level: .critical)))
        ])
        func limits(_ extra: [String: String]) throws -> (Int, Int) {
            var values = ["PROD_CLERK_SECRET_KEY": standIn.secretKey, "CLERK_API_URL": standIn.baseURL, "CLERK_ACCEPTS_TOKEN": "api_key"]
            for (k, v) in extra { values[k] = v }
            let env = Environment(values)
            let verifier = try XCTUnwrap(MachineTokenConfig(environment: env, api: ClerkAPIConfig(environment: env), keys: keys).verifier)
            return (verifier.lookupsPerSecond, verifier.maxConcurrentLookups)
        }
        XCTAssertTrue(try limits([:]) == (10, 4), "the defaults")
        XCTAssertTrue(try limits(["CLERK_MACHINE_TOKEN_LOOKUPS_PER_SECOND": "25", "CLERK_MACHINE_TOKEN_MAX_CONCURRENT_LOOKUPS": "2"]) == (25, 2))
    }

    // MARK: No token anywhere

    func testNoLogLineErrorOrAnswerHoldsAToken() throws {
        let live = "ak_live_leakCheck1Aa2Bb3Cc4Dd5Ee6"
        let revoked = "mt_secret_leakCheck7Ff8Gg9Hh0Ii"
        let oat = "oat_leakCheck1Jj2Kk3Ll4Mm5Nn6"
        standIn.addUser(id: "user_leak", email: nil)
        standIn.addMachineToken(.apiKey, token: live, subject: "user_leak", scopes: ["read"])
        standIn.addMachineToken(.m2m, token: revoked, subject: "mch_leak", revoked: true)
        standIn.addMachineToken(.oauth, token: oat, subject: "user_leak", clientId: "client_leak")
        let h = makeHarness(["CLERK_REQUIRED_SCOPES": "read"])
        for token in [live, revoked, oat, "ak_unknown_leakCheck7Oo8Pp9Qq", try m2mJWT(scopes: ["read"]), try m2mJWT(ttl: -60)] {
            _ = try? direct(token, on: h)
            _ = try? simple(token, on: h)
            _ = try? rest(token, on: h)
        }
        for _ in 0..<40 { standIn.cue(503) }
        _ = try? direct("ak_outage_leakCheck1Rr2Ss3Tt4", on: h)
        _ = try? simple("ak_outage_leakCheck1Rr2Ss3Tt4", on: h)
        let wrongKey = makeHarness(["PROD_CLERK_SECRET_KEY": "sk_test_wrong"])
        _ = try? simple("ak_unauth_leakCheck5Uu6Vv7Ww8", on: wrongKey)
        let text = logs
        XCTAssertTrue(text.contains("token rejected"), "the logs were captured")
        let everything = [text] + seen
        for token in used {
            // The token itself, its first 16 characters, and (for JWTs) its signature.
            let probes = [token, String(token.prefix(16)), String(token.split(separator: ".").last ?? "")].filter { $0.count >= 12 }
            for probe in probes {
                for (i, place) in everything.enumerated() where place.contains(probe) {
                    // The direct answer's `claims` is the JWT's payload; the probes are never in it, but check honestly.
                    XCTFail("token text \(probe.prefix(6))… found in \(i == 0 ? "the logs" : "an answer or error")")
                }
            }
        }
    }
}
