import ClerkKitTestSupport
import ClerkStandIn
import DevTools
import JSON
import LambdaRuntime
import RuntimeSupport
import XCTest

@testable import ClerkKit

/// Machine tokens below the function: type detection, how Clerk's verify answers are read, the caches'
/// bounds and keys, and instances tried in turn.
final class MachineTokenVerifierTests: XCTestCase {
    var f: TokenFixture!
    var standIn: ClerkAPIStandIn!
    /// The throttle's monotonic clock: still unless a test steps it.
    var clock: SteppedClock!

    override func setUpWithError() throws {
        f = try TokenFixture()
        standIn = try ClerkAPIStandIn()
        clock = SteppedClock()
    }

    /// `wallMs`, with the throttle's monotonic clock set to the same reading (the two move together unless a
    /// test is about them parting).
    func at(_ wallMs: Int64) -> Int64 {
        clock.set(wallMs)
        return wallMs
    }

    /// `lookupsPerSecond` is generous unless a test is about it (the tests below ask more than 10 in one instant).
    func verifier(
        maxEntries: Int = 100, instances: [(String, String)]? = nil, lookupsPerSecond: Int = 1000,
        maxConcurrent: Int = 4, callBudgetMs: Int = 1000
    ) throws -> MachineTokenVerifier {
        var clients: [MachineTokenVerifier.Client] = []
        for (environment, key) in instances ?? [("production", standIn.secretKey)] {
            clients.append(.init(environment: environment, api: try ClerkBackendAPI(baseURL: standIn.baseURL, secretKey: key)))
        }
        let keys = JWKSCache(source: .remote(url: f.jwksURL, headers: []), logger: Logger(level: .critical))
        return MachineTokenVerifier(
            instances: clients, jwtVerifier: TokenVerifier(instances: [.init(issuer: nil, environment: "production", keys: keys)]),
            callBudgetMs: callBudgetMs, maxEntries: maxEntries, lookupsPerSecond: lookupsPerSecond,
            maxConcurrentLookups: maxConcurrent, clock: clock.read)
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
        for token in [
            try f.token(sub: "user_1"), try f.token(claims: m2m), try f.token(claims: oauth),
            try f.token(claims: oauth, header: #"{"alg":"RS256","kid":"k","typ":"AT+JWT"}"#)
        ] {
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
        XCTAssertEqual(
            reason(#"{"subject":"org_1","scopes":["a","b"],"revoked":false,"expired":false,"expiration":null}"#), "valid org_1 [\"a\", \"b\"]")
        XCTAssertEqual(reason(#"{"subject":"org_1","revoked":true,"expired":false}"#), "token_revoked")
        XCTAssertEqual(reason(#"{"subject":"org_1","revoked":false,"expired":true}"#), "token_expired")
        XCTAssertEqual(reason(#"{"subject":"org_1","expiration":1799999999999}"#), "token_expired")
        XCTAssertEqual(reason(#"{"subject":"org_1","expiration":1e300}"#), "clerk_api_unavailable", "no trap on a huge number")
        // Not a whole number of milliseconds: before, read as the integer below it (FuzzClerkPayloads' property:
        // a field read must be the strict reader's member).
        XCTAssertEqual(reason(#"{"subject":"org_1","expiration":1800000060000.5}"#), "clerk_api_unavailable")
        XCTAssertEqual(reason(#"{"subject":"org_1","expiration":1.8000000600005e12}"#), "clerk_api_unavailable")
        XCTAssertEqual(reason(#"{"subject":"org_1","expiration":1.80000006e12}"#), "valid org_1 []", "an integer in exponent form")
        XCTAssertEqual(reason(#"{"subject":"org_1","revoked":"no"}"#), "clerk_api_unavailable")
        XCTAssertEqual(reason(#"{"subject":"","revoked":false}"#), "clerk_api_unavailable")
        XCTAssertEqual(reason(#"{"revoked":false}"#), "clerk_api_unavailable")
        XCTAssertEqual(reason(#"{"subject":"org_1","scopes":[1]}"#), "clerk_api_unavailable")
        XCTAssertEqual(reason(#"{"subject":"org_1","scopes":"a"}"#), "clerk_api_unavailable")
        XCTAssertEqual(reason(#"[]"#), "clerk_api_unavailable")
        XCTAssertEqual(reason("<html>"), "clerk_api_unavailable")
    }

    /// Clerk's own fixture key (clerk/javascript `mockTokens.api_key`): `ak_` then 44 characters of standard
    /// base64, with `+`, `/` and `=`. Clerk's SDK tells machine tokens by their prefix alone.
    static let clerkFixtureKey = "ak_LCWGdaM8mv8K4PC/57IICZQXAeWfCgF30DZaFXHoGn9="

    func testClerksFixtureKeyShapeIsAskedOfClerk() throws {
        standIn.addMachineToken(.apiKey, token: Self.clerkFixtureKey, subject: "user_2GIpXOEpVyJw51rkZn9Kmnc6Sxr", scopes: ["read"])
        let v = try verifier()
        let identity = try v.verify(Self.clerkFixtureKey, type: .apiKey, nowMs: Clock.nowMs())
        XCTAssertEqual(identity.subject, "user_2GIpXOEpVyJw51rkZn9Kmnc6Sxr")
        XCTAssertEqual(v.apiCalls, 1)
        let sent = try XCTUnwrap(standIn.requests.last { $0.path == "/v1/api_keys/verify" })
        XCTAssertEqual(try JSONValue.parse(sent.body)["secret"]?.stringValue, Self.clerkFixtureKey, "sent as it is")
        // Base64url, hex and the other prefixes' shapes are asked too (the stand-in answers 404: token_invalid).
        for shape in [
            "ak_" + String(repeating: "A-_9", count: 11), "mt_f7f0ba8c3b4843ce7d85fcdd5e71853e",
            "oat_8XOIucKvqHVr5tYP123456789abcdefghij", "mt_" + String(repeating: "x", count: 509)
        ] {
            XCTAssertTrue(MachineTokenVerifier.isPlausibleOpaque(shape), shape)
        }
    }

    func testWhatCannotBeATokenIsRefusedWithoutACall() throws {
        let v = try verifier()
        let body = "LCWGdaM8mv8K4PC57IICZQXAeWfCgF30"
        let refused = [
            "ak_" + body + " x", "ak_" + body + "\tx", "ak_" + body + "\nx", "ak_" + body + "\u{0}",
            "ak_" + body + "\u{7F}", "ak_" + body + "\"x", "ak_" + body + "'x", "ak_" + body + "`x",
            "ak_" + body + "\\x", "ak_" + body + "é", "ak_" + body + "\u{2028}", "ak_" + body + "\u{FF0B}",
            "ak_" + String(repeating: "A", count: 510), "ak_1234", "oat_"
        ]
        for token in refused {
            XCTAssertFalse(MachineTokenVerifier.isPlausibleOpaque(token), token.debugDescription)
            XCTAssertThrowsError(try v.verify(token, type: ClerkTokenType.detect(token), nowMs: Clock.nowMs()), token.debugDescription) { error in
                XCTAssertEqual(error as? MachineTokenError, .invalid)
            }
        }
        XCTAssertEqual(v.apiCalls, 0)
        XCTAssertEqual(standIn.machineVerifyCalls, 0)
    }

    /// Clerk answering 400 or 422 refuses the request (an API version it no longer takes, a body shape), not
    /// the token: Clerk documents only 404 as "not found", and its SDK maps every other status to an
    /// unexpected error. The check errs (the authorizer answers 5xx), nothing is cached, and a valid token
    /// passes as soon as Clerk accepts the request again.
    func testA400Or422IsOurErrorNotTheTokensAndIsNotRemembered() throws {
        let v = try verifier()
        for status in [400, 422] {
            let key = "ak_live_badRequest\(status)_Aa2Bb3Cc4Dd5"
            standIn.addMachineToken(.apiKey, token: key, subject: "org_b")
            standIn.cue(status)
            let before = standIn.machineVerifyCalls
            XCTAssertThrowsError(try v.verify(key, type: .apiKey, nowMs: Clock.nowMs()), "\(status)") { error in
                let e = error as? MachineTokenError
                XCTAssertEqual(e?.reason, "clerk_api_rejected", "\(status)")
                XCTAssertEqual(e?.isInfrastructure, true, "\(status): the authorizer errs")
                XCTAssertEqual(e?.detail, "Clerk answered HTTP \(status)")
                XCTAssertEqual(e?.clerkCode, "cued", "errors[0].code of the stand-in's body")
            }
            XCTAssertEqual(standIn.machineVerifyCalls, before + 1, "\(status) is not retried")
            XCTAssertEqual(try v.verify(key, type: .apiKey, nowMs: Clock.nowMs()).subject, "org_b", "\(status) was not remembered")
            XCTAssertEqual(standIn.machineVerifyCalls, before + 2)
        }
        XCTAssertEqual(v.cachedCounts.refused, 0)
    }

    func testClerksErrorCodeIsReadBoundedAndPlain() {
        func code(_ body: String) -> String? { ClerkBackendAPI.errorCode(Array(body.utf8)) }
        XCTAssertEqual(code(#"{"errors":[{"message":"Bad Request","long_message":"x","code":"bad_request"}],"clerk_trace_id":"t"}"#), "bad_request")
        XCTAssertEqual(code(#"{"errors":[{"code":"form_param_missing"},{"code":"second"}]}"#), "form_param_missing")
        for junk in [
            #"{"errors":[]}"#, #"{"errors":[{"code":1}]}"#, #"{"errors":{"code":"x"}}"#, "<html>", "",
            #"{"errors":[{"code":"has space"}]}"#, #"{"errors":[{"code":"ak_\#(String(repeating: "x", count: 80))"}]}"#,
            #"{"errors":[{"code":"café"}]}"#, #"{"errors":[{"code":"a"b"}]}"#
        ] {
            XCTAssertNil(code(junk), junk)
        }
    }

    // MARK: Clerk's quota

    /// A 429 with `Retry-After`: the lookup fails fast with a retryable error and no request reaches Clerk
    /// until the wait is over (time is the stepped clock: no sleeping); cached tokens still pass.
    func testA429StopsLookupsUntilRetryAfterThenTheyResume() throws {
        let cached = "ak_live_limitCached1Aa2Bb3Cc4Dd"
        let fresh = "ak_live_limitFresh1Ee2Ff3Gg4Hh5"
        standIn.addMachineToken(.apiKey, token: cached, subject: "org_c")
        standIn.addMachineToken(.apiKey, token: fresh, subject: "org_f")
        let v = try verifier(callBudgetMs: 5000)
        let t0: Int64 = 1_900_000_000_000
        XCTAssertEqual(try v.verify(cached, type: .apiKey, nowMs: at(t0)).subject, "org_c")
        standIn.cue(429, retryAfter: "2")
        func assertLimited(_ token: String, at now: Int64, line: UInt = #line) {
            XCTAssertThrowsError(try v.verify(token, type: .apiKey, nowMs: at(now)), line: line) { error in
                let e = error as? MachineTokenError
                XCTAssertEqual(e?.reason, "clerk_api_rate_limited", line: line)
                XCTAssertEqual(e?.isInfrastructure, true, "retryable: the authorizer errs", line: line)
            }
        }
        assertLimited(fresh, at: t0)
        XCTAssertEqual(standIn.requests.count, 2, "the 429 itself, not waited out and retried")
        for i in 0..<50 { assertLimited("ak_live_limitJunk\(i)_Ii2Jj3Kk4", at: t0 + Int64(i) * 39) }
        assertLimited(fresh, at: t0 + 1999)
        XCTAssertEqual(standIn.requests.count, 2, "no request while Clerk is limiting")
        XCTAssertEqual(try v.verify(cached, type: .apiKey, nowMs: at(t0 + 1000)).subject, "org_c", "a cached token passes")
        XCTAssertEqual(try v.verify(fresh, type: .apiKey, nowMs: at(t0 + 2000)).subject, "org_f", "calls resume after Retry-After")
        XCTAssertEqual(standIn.requests.count, 3)
        XCTAssertEqual(v.cachedCounts.refused, 0, "a rate limit is never remembered as a refusal")
    }

    /// A Retry-After that is missing, zero, a date or absurd still quiets the container for a bounded time.
    func testRetryAfterIsBounded() throws {
        let token = "ak_live_limitBound1Aa2Bb3Cc4Dd"
        standIn.addMachineToken(.apiKey, token: token, subject: "org_b")
        let v = try verifier(callBudgetMs: 5000)
        var now: Int64 = 1_900_000_000_000
        for (header, quietMs) in [(nil, 1000), ("0", 1000), ("Wed, 21 Oct 2015 07:28:00 GMT", 1000), ("999999", 60_000)] as [(String?, Int64)] {
            standIn.cue(429, retryAfter: header)
            XCTAssertThrowsError(try v.verify(token, type: .apiKey, nowMs: at(now)))
            let asked = standIn.requests.count
            XCTAssertThrowsError(try v.verify(token, type: .apiKey, nowMs: at(now + quietMs - 1)), "\(header ?? "none")")
            XCTAssertEqual(standIn.requests.count, asked, "\(header ?? "none")")
            XCTAssertEqual(try v.verify(token, type: .apiKey, nowMs: at(now + quietMs)).subject, "org_b", "\(header ?? "none")")
            now += quietMs + 120_000  // past the cached answer too
        }
    }

    /// At most `lookupsPerSecond` uncached lookups reach Clerk per second; the rest fail fast without a call,
    /// are not remembered, and cached tokens keep passing.
    func testThePerSecondCapRefusesLookupsBeyondItWithoutCalls() throws {
        let cached = "ak_live_capCached1Aa2Bb3Cc4Dd5"
        standIn.addMachineToken(.apiKey, token: cached, subject: "org_c")
        let v = try verifier(lookupsPerSecond: 3)
        let t0: Int64 = 1_900_000_000_000
        XCTAssertEqual(try v.verify(cached, type: .apiKey, nowMs: at(t0)).subject, "org_c")
        var outcomes: [String] = []
        for i in 0..<10 {
            do {
                _ = try v.verify("ak_flood_\(i)_Aa2Bb3Cc4Dd5", type: .apiKey, nowMs: at(t0 + Int64(i)))
                outcomes.append("valid")
            } catch {
                outcomes.append(error.reason)
                if i >= 2 { XCTAssertTrue(error.isInfrastructure, "retryable") }
            }
        }
        XCTAssertEqual(outcomes, ["token_invalid", "token_invalid"] + Array(repeating: "lookups_throttled", count: 8))
        XCTAssertEqual(standIn.machineVerifyCalls, 3, "the cached token's call and two lookups")
        XCTAssertEqual(try v.verify(cached, type: .apiKey, nowMs: at(t0 + 10)).subject, "org_c", "a cached token passes")
        // A second later the budget is back: three more lookups, the refused ones included (never remembered).
        for i in 2..<6 {
            XCTAssertThrowsError(try v.verify("ak_flood_\(i)_Aa2Bb3Cc4Dd5", type: .apiKey, nowMs: at(t0 + 1010))) { error in
                XCTAssertEqual((error as? MachineTokenError)?.reason, i < 5 ? "token_invalid" : "lookups_throttled", "\(i)")
            }
        }
        XCTAssertEqual(standIn.machineVerifyCalls, 6)
        // A third of a second buys one lookup (334 ms at 3 per second: 1.002 of a call).
        XCTAssertThrowsError(try v.verify("ak_flood_6_Aa2Bb3Cc4Dd5", type: .apiKey, nowMs: at(t0 + 1343))) { error in
            XCTAssertEqual((error as? MachineTokenError)?.reason, "lookups_throttled", "333 ms: 0.999 of a call")
        }
        XCTAssertThrowsError(try v.verify("ak_flood_6_Aa2Bb3Cc4Dd5", type: .apiKey, nowMs: at(t0 + 1344))) { error in
            XCTAssertEqual((error as? MachineTokenError)?.reason, "token_invalid")
        }
        XCTAssertEqual(standIn.machineVerifyCalls, 7)
    }

    /// The caches and expirations read the caller's wall-clock `nowMs`; the throttle reads its own monotonic
    /// clock. So a wall clock stepped back an hour (an NTP correction, a restored snapshot) stalls no lookup:
    /// a monotonic second refills the bucket and a 429's Retry-After ends on time, wherever the wall clock is.
    func testAWallClockSteppedBackStallsNoLookup() throws {
        let v = try verifier(lookupsPerSecond: 2, callBudgetMs: 5000)
        let t0: Int64 = 1_900_000_000_000
        let hour: Int64 = 3_600_000
        func outcome(_ token: String, wall: Int64, monotonic: Int64) -> String {
            clock.set(monotonic)
            do {
                return try v.verify(token, type: .apiKey, nowMs: wall).subject
            } catch {
                return error.reason
            }
        }
        XCTAssertEqual(outcome("ak_unknown_step1_Aa2Bb3Cc4Dd", wall: t0, monotonic: 0), "token_invalid")
        XCTAssertEqual(outcome("ak_unknown_step2_Aa2Bb3Cc4Dd", wall: t0, monotonic: 0), "token_invalid")
        XCTAssertEqual(outcome("ak_unknown_step3_Aa2Bb3Cc4Dd", wall: t0, monotonic: 0), "lookups_throttled")
        XCTAssertEqual(
            outcome("ak_unknown_step3_Aa2Bb3Cc4Dd", wall: t0 - hour, monotonic: 1000), "token_invalid",
            "a monotonic second later, the wall clock an hour back: the budget is back")
        standIn.cue(429, retryAfter: "60")
        XCTAssertEqual(outcome("ak_unknown_step4_Aa2Bb3Cc4Dd", wall: t0 - hour, monotonic: 2000), "clerk_api_rate_limited")
        XCTAssertEqual(
            outcome("ak_unknown_step5_Aa2Bb3Cc4Dd", wall: t0 + hour, monotonic: 61_999), "clerk_api_rate_limited",
            "nor does a wall clock stepped forward end Clerk's wait early")
        XCTAssertEqual(
            outcome("ak_unknown_step5_Aa2Bb3Cc4Dd", wall: t0 - 2 * hour, monotonic: 62_000), "token_invalid",
            "sixty monotonic seconds after the 429, the wall clock two hours back: calls resume")
        XCTAssertEqual(standIn.machineVerifyCalls, 5)
    }

    /// The concurrency cap counts distinct tokens: a check of a token already being looked up joins it.
    func testTheConcurrencyCapCountsDistinctLookups() throws {
        let throttle = MachineTokenThrottle(lookupsPerSecond: 10, maxConcurrentLookups: 2, clock: clock.read)
        let (a, b, c) = (TokenDigest("ak_a"), TokenDigest("ak_b"), TokenDigest("ak_c"))
        XCTAssertNoThrow(try throttle.enter(a))
        XCTAssertNoThrow(try throttle.enter(b))
        XCTAssertNoThrow(try throttle.enter(a), "joins the lookup of a")
        XCTAssertThrowsError(try throttle.enter(c)) { error in
            XCTAssertEqual((error as? MachineTokenError)?.reason, "lookups_throttled")
        }
        XCTAssertEqual(throttle.inProgress, 2)
        throttle.leave(a)
        XCTAssertThrowsError(try throttle.enter(c), "a is still being looked up once")
        throttle.leave(a)
        XCTAssertEqual(throttle.inProgress, 1)
        XCTAssertNoThrow(try throttle.enter(c))
        throttle.leave(b)
        throttle.leave(c)
        throttle.leave(c)  // one leave too many changes nothing
        XCTAssertEqual(throttle.inProgress, 0)
    }

    func testA404MovesOnToTheNextInstance() throws {
        let dev = try ClerkAPIStandIn(secretKey: "sk_test_dev")
        dev.addMachineToken(.apiKey, token: "ak_test_devOnly1Aa2Bb3Cc4", subject: "user_dev")
        var clients: [MachineTokenVerifier.Client] = [
            .init(environment: "production", api: try ClerkBackendAPI(baseURL: standIn.baseURL, secretKey: standIn.secretKey)),
            .init(environment: "development", api: try ClerkBackendAPI(baseURL: dev.baseURL, secretKey: "sk_test_dev"))
        ]
        let keys = JWKSCache(source: .remote(url: f.jwksURL, headers: []), logger: Logger(level: .critical))
        let v = MachineTokenVerifier(
            instances: clients, jwtVerifier: TokenVerifier(instances: [.init(issuer: nil, environment: "production", keys: keys)]))
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
            #" [ 1 , "two" , [ ] , { } , null ] "#, #""just a string""#, "0", "-0.5e-3", "{}", "[]"
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
        XCTAssertThrowsError(
            try JSONValue.parseStrict(Array(String(repeating: "[", count: 513).utf8) + Array(String(repeating: "]", count: 513).utf8)),
            "nesting is bounded")
    }
}
