@testable import ClerkKit
import DevTools
import JSON
import LambdaRuntime
import TestSupport
import XCTest

/// Machine tokens below the function: type detection, how Clerk's verify answers are read, the caches'
/// bounds and keys, and instances tried in turn.
final class MachineTokenVerifierTests: XCTestCase {
    var f: TokenFixture!
    var standIn: ClerkAPIStandIn!

    override func setUpWithError() throws {
        f = try TokenFixture()
        standIn = try ClerkAPIStandIn()
    }

    func verifier(maxEntries: Int = 100, instances: [(String, String)]? = nil) throws -> MachineTokenVerifier {
        var clients: [MachineTokenVerifier.Client] = []
        for (environment, key) in instances ?? [("production", standIn.secretKey)] {
            clients.append(.init(environment: environment, api: try ClerkBackendAPI(baseURL: standIn.baseURL, secretKey: key)))
        }
        let keys = JWKSCache(source: .remote(url: f.jwksURL, headers: []), logger: Logger(level: .critical))
        return MachineTokenVerifier(instances: clients, jwtVerifier: TokenVerifier(instances: [.init(issuer: nil, environment: "production", keys: keys)]),
                                    callBudgetMs: 1000, maxEntries: maxEntries)
    }

    func testTypesAreToldApartAsClerkDoes() throws {
        let now = Clock.nowSeconds()
        XCTAssertEqual(ClerkTokenType.detect("ak_123"), .apiKey)
        XCTAssertEqual(ClerkTokenType.detect("mt_secret_123"), .m2mToken)
        XCTAssertEqual(ClerkTokenType.detect("oat_123"), .oauthToken)
        XCTAssertEqual(ClerkTokenType.detect(try f.token(sub: "user_1")), .sessionToken)
        let m2m = DevelopmentKey.machineClaims(subject: "mch_1", issuer: f.issuer, now: now)
        XCTAssertEqual(ClerkTokenType.detect(try f.token(claims: m2m)), .m2mToken, "sub mch_ decides, whatever the header")
        let oauth = DevelopmentKey.machineClaims(subject: "user_1", issuer: f.issuer, now: now, clientId: "c")
        for typ in ["at+jwt", "application/at+jwt", "AT+JWT"] {
            XCTAssertEqual(ClerkTokenType.detect(try f.token(claims: oauth, header: #"{"alg":"RS256","kid":"k","typ":"\#(typ)"}"#)), .oauthToken)
        }
        XCTAssertEqual(ClerkTokenType.detect(try f.token(claims: oauth)), .sessionToken, "typ JWT and a user: a session token")
        // verifyToken parses once and tells the type from the parsed token: the same answers.
        for token in [try f.token(sub: "user_1"), try f.token(claims: m2m), try f.token(claims: oauth),
                      try f.token(claims: oauth, header: #"{"alg":"RS256","kid":"k","typ":"AT+JWT"}"#)] {
            XCTAssertEqual(ClerkTokenType.detect(try ParsedToken.parse(token)), ClerkTokenType.detect(token))
        }
        for junk in ["", "x", "a.b.c", "not.a.token", "eyJ.eyJ.x", "Mt_123", " ak_123", "AK_123"] {
            XCTAssertEqual(ClerkTokenType.detect(junk), .sessionToken, junk)
        }
        // A payload with `sub` twice is not a machine token by its second spelling: strict JSON refuses it.
        let twice = try f.token(claims: #"{"sub":"user_1","sub":"mch_1","exp":\#(now + 60)}"#)
        XCTAssertEqual(ClerkTokenType.detect(twice), .sessionToken)
    }

    func testCacheKeysAreDigestsNeverTokens() throws {
        let token = "ak_live_digestCheck1Aa2Bb3Cc4Dd5"
        XCTAssertEqual(MemoryLayout<TokenDigest>.size, 32, "four words: the digest, no reference to any text")
        XCTAssertEqual(TokenDigest(token), TokenDigest(token))
        XCTAssertNotEqual(TokenDigest(token), TokenDigest(token + "x"))
        XCTAssertFalse(String(describing: TokenDigest(token)).contains("digestCheck"))
        standIn.addMachineToken(.apiKey, token: token, subject: "org_d", claims: #"{"k":"v"}"#)
        let identity = try verifier().verify(token, type: .apiKey, nowMs: Clock.nowMs())
        XCTAssertFalse(String(describing: identity).contains("digestCheck"), "the cached value holds no token either")
    }

    func testEachMapIsBoundedAndRefusalsCannotPushOutPasses() throws {
        let v = try verifier(maxEntries: 3)
        standIn.addMachineToken(.apiKey, token: "ak_live_kept1Aa2Bb3Cc4", subject: "org_k")
        let now = Clock.nowMs()
        XCTAssertEqual(try v.verify("ak_live_kept1Aa2Bb3Cc4", type: .apiKey, nowMs: now).subject, "org_k")
        for i in 0..<10 {
            XCTAssertThrowsError(try v.verify("ak_flood_\(i)_Aa2Bb3Cc4", type: .apiKey, nowMs: now)) { error in
                XCTAssertEqual(error as? MachineTokenError, .invalid)
            }
        }
        XCTAssertLessThanOrEqual(v.cachedCounts.refused, 3)
        XCTAssertEqual(v.cachedCounts.valid, 1)
        let calls = v.apiCalls
        XCTAssertEqual(try v.verify("ak_live_kept1Aa2Bb3Cc4", type: .apiKey, nowMs: now).subject, "org_k")
        XCTAssertEqual(v.apiCalls, calls, "the pass is still cached after a flood of refusals")
    }

    func testAnAnswerNotInClerksShapeIsClerksFailureNotAPass() {
        let now: Int64 = 1_800_000_000_000
        func reason(_ json: String) -> String {
            switch MachineTokenVerifier.read(Array(json.utf8), type: .apiKey, environment: "production", nowMs: now) {
            case .valid(let identity): "valid \(identity.subject) \(identity.scopes)"
            case .refused(let error): error.reason
            }
        }
        XCTAssertEqual(reason(#"{"subject":"org_1","scopes":["a","b"],"revoked":false,"expired":false,"expiration":null}"#), "valid org_1 [\"a\", \"b\"]")
        XCTAssertEqual(reason(#"{"subject":"org_1","revoked":true,"expired":false}"#), "token_revoked")
        XCTAssertEqual(reason(#"{"subject":"org_1","revoked":false,"expired":true}"#), "token_expired")
        XCTAssertEqual(reason(#"{"subject":"org_1","expiration":1799999999999}"#), "token_expired")
        XCTAssertEqual(reason(#"{"subject":"org_1","expiration":1e300}"#), "clerk_api_unavailable", "no trap on a huge number")
        XCTAssertEqual(reason(#"{"subject":"org_1","revoked":"no"}"#), "clerk_api_unavailable")
        XCTAssertEqual(reason(#"{"subject":"","revoked":false}"#), "clerk_api_unavailable")
        XCTAssertEqual(reason(#"{"revoked":false}"#), "clerk_api_unavailable")
        XCTAssertEqual(reason(#"{"subject":"org_1","scopes":[1]}"#), "clerk_api_unavailable")
        XCTAssertEqual(reason(#"{"subject":"org_1","scopes":"a"}"#), "clerk_api_unavailable")
        XCTAssertEqual(reason(#"[]"#), "clerk_api_unavailable")
        XCTAssertEqual(reason("<html>"), "clerk_api_unavailable")
    }

    func testA404MovesOnToTheNextInstance() throws {
        let dev = try ClerkAPIStandIn(secretKey: "sk_test_dev")
        dev.addMachineToken(.apiKey, token: "ak_test_devOnly1Aa2Bb3Cc4", subject: "user_dev")
        var clients: [MachineTokenVerifier.Client] = [
            .init(environment: "production", api: try ClerkBackendAPI(baseURL: standIn.baseURL, secretKey: standIn.secretKey)),
            .init(environment: "development", api: try ClerkBackendAPI(baseURL: dev.baseURL, secretKey: "sk_test_dev")),
        ]
        let keys = JWKSCache(source: .remote(url: f.jwksURL, headers: []), logger: Logger(level: .critical))
        let v = MachineTokenVerifier(instances: clients, jwtVerifier: TokenVerifier(instances: [.init(issuer: nil, environment: "production", keys: keys)]))
        clients = []
        let identity = try v.verify("ak_test_devOnly1Aa2Bb3Cc4", type: .apiKey, nowMs: Clock.nowMs())
        XCTAssertEqual(identity.environment, "development")
        XCTAssertEqual(v.apiCalls, 2)
        XCTAssertThrowsError(try v.verify("ak_test_nowhere1Aa2Bb3Cc4", type: .apiKey, nowMs: Clock.nowMs())) { error in
            XCTAssertEqual(error as? MachineTokenError, .invalid)
        }
    }
}

/// The lean JSON reader of Clerk's answers and machine JWT payloads agrees with the generic decoder, and
/// refuses what the strict scanner refuses.
final class JSONValueStrictTests: XCTestCase {
    func testItReadsWhatTheDecoderReads() throws {
        let documents = [
            #"{"object":"api_key","subject":"user_1","scopes":["a","b"],"claims":{"n":[1,2.5,-3e2,{"x":null}],"t":true,"f":false},"expiration":1735732800000}"#,
            #"{"s":"caf\u00e9 \"quoted\" \\ \/ \n\t \ud83d\ude00","plain":"naïve ✓"}"#,
            #" [ 1 , "two" , [ ] , { } , null ] "#, #""just a string""#, "0", "-0.5e-3", "{}", "[]",
        ]
        for d in documents {
            XCTAssertEqual(try JSONValue.parseStrict(Array(d.utf8)), try JSONValue.parse(Array(d.utf8)), d)
        }
    }

    func testItRefusesWhatTheScannerRefuses() {
        for d in [#"{"a":1,"a":2}"#, "{", #"{"a":01}"#, #"{"a":1e400}"#, #"["\u00"]"#, "[1,]", "tru", #"{"a":"\#u{01}"}"#, "", "[1] [2]"] {
            XCTAssertThrowsError(try JSONValue.parseStrict(Array(d.utf8)), d)
        }
        XCTAssertThrowsError(try JSONValue.parseStrict([0x22, 0xFF, 0x22]), "invalid UTF-8")
        XCTAssertThrowsError(try JSONValue.parseStrict(Array(String(repeating: "[", count: 513).utf8) + Array(String(repeating: "]", count: 513).utf8)),
                             "nesting is bounded")
    }
}
