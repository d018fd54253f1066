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

/// `verifyToken` through the harness: each event shape, just-in-time users, refusals and their logs.
final class VerifyTokenTests: XCTestCase {
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

    override func tearDown() { unlink(logPath) }

    func makeHarness(_ extra: [String: String] = [:]) -> LocalHarness {
        logPath = "/tmp/clerk-verify-log-\(getpid())-\(Clock.monotonicNs())"
        let fd = open(logPath, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0o600)
        var env = [
            "DATABASE_URL": TestDatabase.url, "PROD_CLERK_ISSUER": tokens.issuer, "PROD_CLERK_JWKS_URL": tokens.jwksURL,
            "CLERK_JWKS_TIMEOUT_MS": "500"
        ]
        for (k, v) in extra { env[k] = v }
        return LocalHarness(registry: Functions.registry, environment: Environment(env), logger: Logger(level: .debug, fd: fd))
    }

    var logs: String { logText(logPath) }

    func event(_ file: String, token: String) throws -> [UInt8] {
        Array(try BuiltProducts.event(file).text.replacingAll("DEV_SESSION_TOKEN", with: token).utf8)
    }

    func invoke(_ event: [UInt8]) throws -> JSONValue { try JSONValue.parse(harness.invoke("verifyToken", event: event)) }

    func userCount(_ sub: String) throws -> Int {
        try db.query("SELECT count(*) AS n FROM users WHERE clerk_user_id = $1", [sub]).first!.decode("n", as: Int.self)
    }

    func testHTTPAPIAuthorizerAllowsAndCreatesTheUserJustInTime() throws {
        let out = try invoke(event("verifyToken.http-api.token.json", token: tokens.token(sub: "user_jit")))
        XCTAssertEqual(out["isAuthorized"]?.boolValue, true)
        let context = try XCTUnwrap(out["context"])
        XCTAssertEqual(context["clerkUserId"]?.stringValue, "user_jit")
        XCTAssertEqual(context["environment"]?.stringValue, "production")
        XCTAssertTrue(context["sessionId"]?.stringValue?.hasPrefix("sess_") ?? false)
        let row = try XCTUnwrap(db.query("SELECT id::text AS id FROM users WHERE clerk_user_id = 'user_jit' AND environment = 'production'").first)
        XCTAssertEqual(context["userId"]?.stringValue, try row.decode("id", as: String.self), "userId is the internal id")
        XCTAssertEqual(try db.query("SELECT tier FROM subscriptions").first?.decode("tier", as: String.self), "free")
        XCTAssertTrue(logs.contains("user created just in time"))
        // The second request finds the row.
        _ = try invoke(event("verifyToken.http-api.token.json", token: tokens.token(sub: "user_jit")))
        XCTAssertEqual(try userCount("user_jit"), 1)
    }

    func testHTTPAPIAuthorizerReadsTheSessionCookie() throws {
        let token = try tokens.token(sub: "user_cookie")
        let e =
            #"{"version":"2.0","type":"REQUEST","routeArn":"arn:aws:execute-api:us-east-1:1:abc/$default/GET/me","identitySource":[],"cookies":["theme=dark","__session=\#(token)"],"headers":{},"requestContext":{}}"#
        XCTAssertEqual(try invoke(Array(e.utf8))["isAuthorized"]?.boolValue, true)
    }

    /// `Authorization` spelled several ways by case: the all-lower-case spelling (last in byte order) is the one
    /// checked, in every process. Before, a Swift dictionary's per-process order chose which was read.
    func testOfHeadersThatLowerCaseAlikeTheLowerCaseOneIsRead() throws {
        let token = try tokens.token(sub: "user_spelling")
        let spellings = ["AUTHORIZATION", "Authorization", "AuthoriZation", "aUTHORIZATION", "authorizatioN", "authorization"]
        let headers = spellings.reversed().map { #""\#($0)":"Bearer \#($0 == "authorization" ? token : "not-a-token")""# }
        let e = #"{"version":"2.0","type":"REQUEST","headers":{\#(headers.joined(separator: ","))},"requestContext":{}}"#
        XCTAssertEqual(try invoke(Array(e.utf8))["isAuthorized"]?.boolValue, true)
    }

    func testHTTPAPIAuthorizerDeniesWithTheReasonAndLogsItWithoutTheToken() throws {
        let expired = try tokens.token(ttl: -60)
        let out = try invoke(event("verifyToken.http-api.token.json", token: expired))
        XCTAssertEqual(out["isAuthorized"]?.boolValue, false)
        XCTAssertEqual(out["context"]?["reason"]?.stringValue, "token_expired")
        XCTAssertTrue(logs.contains("\"reason\":\"token_expired\""))
        XCTAssertFalse(logs.contains(String(expired.split(separator: ".")[2])), "the token never reaches the log")
        let missing = #"{"version":"2.0","type":"REQUEST","headers":{},"requestContext":{}}"#
        XCTAssertEqual(try invoke(Array(missing.utf8))["context"]?["reason"]?.stringValue, "token_missing")
        XCTAssertEqual(try userCount("user_test"), 0)
    }

    func testRESTTokenAuthorizerAnswersAPolicyOrUnauthorized() throws {
        let out = try invoke(event("verifyToken.rest-token.token.json", token: tokens.token(sub: "user_rest")))
        XCTAssertEqual(out["principalId"]?.stringValue, "user_rest")
        let statement = out["policyDocument"]?["Statement"]
        guard case .array(let list)? = statement else { return XCTFail("no statement") }
        XCTAssertEqual(list.first?["Effect"]?.stringValue, "Allow")
        XCTAssertEqual(list.first?["Resource"]?.stringValue, "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/*")
        XCTAssertEqual(out["context"]?["clerkUserId"]?.stringValue, "user_rest")
        XCTAssertThrowsError(try invoke(event("verifyToken.rest-token.token.json", token: "not.a.token"))) { error in
            guard case .functionError(let object)? = error as? HarnessError else { return XCTFail("\(error)") }
            XCTAssertEqual(object.errorMessage, "Unauthorized", "API Gateway's 401 convention")
        }
    }

    func testDirectInvocation() throws {
        let ok = try invoke(event("verifyToken.direct.token.json", token: tokens.token(sub: "user_direct")))
        XCTAssertEqual(ok["valid"]?.boolValue, true)
        XCTAssertEqual(ok["claims"]?["sub"]?.stringValue, "user_direct")
        XCTAssertNotNil(ok["userId"]?.stringValue)
        let bad = try invoke(event("verifyToken.direct.token.json", token: tokens.token(signer: DevelopmentKey(keyId: "ins_test_1"))))
        XCTAssertEqual(bad, .object(["valid": .bool(false), "reason": .string("signature_invalid")]))
    }

    func testADeletedUserIsRefused() throws {
        try db.query("INSERT INTO users (clerk_user_id, environment, deleted_at) VALUES ('user_gone', 'production', now())")
        let simple = try invoke(event("verifyToken.http-api.token.json", token: tokens.token(sub: "user_gone")))
        XCTAssertEqual(simple["isAuthorized"]?.boolValue, false)
        XCTAssertEqual(simple["context"]?["reason"]?.stringValue, "user_deleted")
        let policy = try invoke(event("verifyToken.rest-token.token.json", token: tokens.token(sub: "user_gone")))
        guard case .array(let list)? = policy["policyDocument"]?["Statement"] else { return XCTFail() }
        XCTAssertEqual(list.first?["Effect"]?.stringValue, "Deny")
        XCTAssertEqual(try userCount("user_gone"), 1, "no second row for a tombstoned user")
    }

    func testKeysUnreachableIsAnErrorNotADenial() throws {
        tokens.server.stop()
        XCTAssertThrowsError(try invoke(event("verifyToken.http-api.token.json", token: tokens.token()))) { error in
            guard case .functionError(let object)? = error as? HarnessError else { return XCTFail("\(error)") }
            XCTAssertEqual(object.errorType, "AuthorizerUnavailable")
        }
        XCTAssertEqual(try invoke(event("verifyToken.direct.token.json", token: tokens.token()))["reason"]?.stringValue, "jwks_unavailable")
        XCTAssertTrue(logs.contains("\"reason\":\"jwks_unavailable\""))
    }

    func testConcurrentFirstRequestsCreateExactlyOneRow() throws {
        let workers = 6
        let done = ConditionLock()
        final class Box: @unchecked Sendable {
            var ids: [String] = []
            var finished = 0
        }
        let box = Box()
        let tokens = self.tokens!
        let url = TestDatabase.url
        for _ in 0..<workers {
            // Separate processes' worth of state: each worker has its own harness, connection and key cache.
            Threads.detach {
                let h = LocalHarness(
                    registry: Functions.registry,
                    environment: Environment([
                        "DATABASE_URL": url, "PROD_CLERK_ISSUER": tokens.issuer, "PROD_CLERK_JWKS_URL": tokens.jwksURL
                    ]),
                    logger: Logger(level: .error))
                var id = "error"
                if let token = try? tokens.token(sub: "user_race"),
                    let out = try? h.invoke("verifyToken", event: Array(#"{"token":"\#(token)"}"#.utf8)),
                    let v = try? JSONValue.parse(out), let userId = v["userId"]?.stringValue
                {
                    id = userId
                }
                done.withLock {
                    box.ids.append(id)
                    box.finished += 1
                }
                done.broadcast()
            }
        }
        XCTAssertTrue(done.wait(timeoutMs: 60_000) { box.finished == workers })
        XCTAssertEqual(Set(box.ids).count, 1, "\(box.ids)")
        XCTAssertFalse(box.ids.contains("error"))
        XCTAssertEqual(try userCount("user_race"), 1)
        XCTAssertEqual(try db.query("SELECT count(*) AS n FROM subscriptions").first?.decode("n", as: Int.self), 1)
    }

    func testNoKeySourceIsAnInitError() {
        let h = LocalHarness(
            registry: Functions.registry, environment: Environment(["DATABASE_URL": TestDatabase.url]), logger: Logger(level: .error))
        XCTAssertThrowsError(try h.invoke("verifyToken", event: Array(#"{"token":"x"}"#.utf8))) { error in
            guard case .initFailed(let object)? = error as? HarnessError else { return XCTFail("\(error)") }
            XCTAssertEqual(object.errorType, "Runtime.ConfigError")
        }
    }

    func testPEMKeyFromTheEnvironmentWithEscapedNewlines() throws {
        let pem = tokens.key.publicPEM.split(separator: "\n").joined(separator: "\\n")
        harness = makeHarness(["PROD_CLERK_ISSUER": "", "CLERK_JWT_KEY": pem, "CLERK_ISSUER": tokens.issuer])
        tokens.server.stop()
        XCTAssertEqual(try invoke(event("verifyToken.direct.token.json", token: tokens.token()))["valid"]?.boolValue, true)
    }

    // MARK: Hardening (issue 10)

    func testAnUnsignedTokenWithAHugeVersionIsDeniedNotACrash() throws {
        // The remote crash: `{"sub":"user_x","v":1e300}` with any signature trapped before the signature check.
        let header = Base64.encode(Array(#"{"alg":"RS256","kid":"ins_test_1","typ":"JWT"}"#.utf8), url: true)
        let payload = Base64.encode(Array(#"{"sub":"user_x","iss":"\#(tokens.issuer)","v":1e300}"#.utf8), url: true)
        let token = "\(header).\(payload).\(Base64.encode(Crypto.randomBytes(256), url: true))"
        let out = try invoke(event("verifyToken.direct.token.json", token: token))
        XCTAssertEqual(out["valid"]?.boolValue, false)
        XCTAssertEqual(out["reason"]?.stringValue, "signature_invalid")
        let signed = try tokens.token(claims: #"{"sub":"user_x","iss":"\#(tokens.issuer)","exp":\#(Clock.nowSeconds() + 60),"v":9.3e18}"#)
        let denied = try invoke(event("verifyToken.http-api.token.json", token: signed))
        XCTAssertEqual(denied["context"]?["reason"]?.stringValue, "token_malformed")
        XCTAssertTrue(logs.contains("\"reason\":\"token_malformed\""), logs)
        XCTAssertFalse(logs.contains(String(signed.split(separator: ".")[2])), "never the token in the log")
        XCTAssertEqual(try userCount("user_x"), 0)
    }

    func testPlainHTTPKeyURLsAreAnInitErrorExceptOnLoopback() throws {
        func initError(_ env: [String: String], function: String = "verifyToken") -> String? {
            var all = ["DATABASE_URL": TestDatabase.url]
            for (k, v) in env { all[k] = v }
            let h = LocalHarness(registry: Functions.registry, environment: Environment(all), logger: Logger(level: .error))
            do {
                _ = try h.invoke(function, event: Array(#"{"token":"x"}"#.utf8))
                return nil
            } catch HarnessError.initFailed(let object) {
                return object.errorType + ": " + object.errorMessage
            } catch {
                return nil
            }
        }
        let refused: [[String: String]] = [
            ["PROD_CLERK_ISSUER": tokens.issuer, "PROD_CLERK_JWKS_URL": "http://clerk.example/.well-known/jwks.json"],
            ["CLERK_JWKS_URL": "http://clerk.example/.well-known/jwks.json"],
            ["CLERK_JWKS_URL": "http://127.0.0.1.evil.example/jwks"],
            ["CLERK_JWKS_URL": "file:///etc/passwd"],
            ["CLERK_SECRET_KEY": "sk_test_x", "CLERK_API_URL": "http://api.clerk.example"]
        ]
        for env in refused {
            let error = initError(env)
            XCTAssertTrue(error?.contains("Runtime.ConfigError") == true && error?.contains("https://") == true, "\(env): \(error ?? "no error")")
            XCTAssertFalse(error?.contains("sk_test_x") == true, "the secret is never echoed")
        }
        // `me` with wrong token settings fails its init too, instead of answering every request 401.
        XCTAssertNotNil(initError(["CLERK_JWKS_URL": "http://clerk.example/jwks"], function: "me"))
        XCTAssertNil(initError(["CLERK_JWKS_URL": tokens.jwksURL]), "loopback http stays for local stand-ins")
        XCTAssertNil(initError(["CLERK_JWKS_URL": "https://clerk.example/.well-known/jwks.json"]))
    }
}
