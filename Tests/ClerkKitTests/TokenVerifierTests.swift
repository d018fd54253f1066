import ClerkKit
import ClerkKitTestSupport
import ClerkStandIn
import DevTools
import JSON
import LambdaRuntime
import LocalHosting
import RuntimeSupport
import XCTest

/// Session-token verification against keys served over real HTTP on loopback.
final class TokenVerifierTests: XCTestCase {
    var f: TokenFixture!
    let quiet = Logger(level: .error)

    override func setUpWithError() throws { f = try TokenFixture() }

    func verifier(
        issuer: String? = "https://clerk.test.example", ttl: Int = 300, timeoutMs: Int = 2000, parties: [String] = [],
        pending: Bool = false, source: KeySource? = nil
    ) -> (TokenVerifier, JWKSCache) {
        let cache = JWKSCache(source: source ?? .remote(url: f.jwksURL, headers: []), ttlSeconds: ttl, timeoutMs: timeoutMs, logger: quiet)
        return (
            TokenVerifier(
                instances: [.init(issuer: issuer, environment: "production", keys: cache)],
                authorizedParties: parties, acceptPendingSessions: pending), cache
        )
    }

    func assertReason(
        _ v: TokenVerifier, _ token: String, _ reason: String, nowMs: Int64 = Clock.nowMs(),
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertThrowsError(try v.verify(token, nowMs: nowMs), file: file, line: line) { error in
            XCTAssertEqual((error as? TokenError)?.reason, reason, "\(error)", file: file, line: line)
        }
    }

    func testValidTokensForEachRSAlgorithm() throws {
        let (v, _) = verifier()
        for alg in ["RS256", "RS384", "RS512"] {
            let session = try v.verify(f.token(sub: "user_\(alg)", algorithm: alg), nowMs: Clock.nowMs())
            XCTAssertEqual(session.claims.subject, "user_\(alg)")
            XCTAssertEqual(session.environment, "production")
            XCTAssertEqual(session.claims.version, 2)
            XCTAssertNotNil(session.claims.sessionId)
        }
    }

    func testV2OrganizationClaimsComeThrough() throws {
        let (v, _) = verifier()
        let s = try v.verify(f.token(extra: #""o":{"id":"org_123","slg":"acme","rol":"admin","per":"read","fpm":"1"}"#), nowMs: Clock.nowMs())
        XCTAssertEqual(s.claims.organizationId, "org_123")
        let v1 = try v.verify(f.token(extra: #""org_id":"org_v1""#), nowMs: Clock.nowMs())
        XCTAssertEqual(v1.claims.organizationId, "org_v1")
        XCTAssertEqual(try JSONValue.parse(s.payload)["o"]?["slg"]?.stringValue, "acme", "every claim reaches the caller")
    }

    func testMalformedTokens() throws {
        let (v, _) = verifier()
        let good = try f.token()
        let parts = good.split(separator: ".").map(String.init)
        for bad in [
            "", "abc", "a.b", "\(parts[0]).\(parts[1])", "\(good).x", "!!!.\(parts[1]).\(parts[2])",
            "\(Base64.encode(Array("not json".utf8), url: true)).\(parts[1]).\(parts[2])"
        ] {
            assertReason(v, bad, "token_malformed")
        }
        assertReason(v, try f.token(header: #"{"alg":"RS256","kid":"ins_test_1","typ":"JWS"}"#), "token_malformed")
        assertReason(v, try f.token(header: #"{"alg":"RS256","kid":"ins_test_1","cat":"cl_B7d4PD333AAA"}"#), "token_malformed")
        let now = Clock.nowSeconds()
        assertReason(v, try f.token(claims: #"{"iss":"https://clerk.test.example","exp":\#(now + 60)}"#), "token_malformed")
        assertReason(v, try f.token(claims: #"{"sub":"user_1","iss":"https://clerk.test.example"}"#), "token_malformed")
        assertReason(v, try f.token(claims: #"{"sub":"user_1","iss":"https://clerk.test.example","exp":"soon"}"#), "token_malformed")
    }

    func testAlgorithmsOtherThanRSAreRefusedBeforeAnyKeyWork() throws {
        let (v, cache) = verifier()
        for alg in ["none", "HS256", "ES256", "PS256"] {
            assertReason(v, try f.token(header: #"{"alg":"\#(alg)","kid":"ins_test_1","typ":"JWT"}"#), "alg_not_allowed")
        }
        XCTAssertEqual(cache.fetchCount, 0, "no JWKS fetch for a token refused on its header")
        // A key that declares RS256 refuses an RS512 token, even with a valid RS512 signature.
        f.document = f.key.jwks(algorithm: "RS256")
        assertReason(v, try f.token(algorithm: "RS512"), "alg_not_allowed")
    }

    func testSignatureChecks() throws {
        let (v, _) = verifier()
        let impostor = try DevelopmentKey(keyId: "ins_test_1")
        assertReason(v, try f.token(signer: impostor), "signature_invalid")  // same kid, another key
        let a = try f.token(sub: "user_a").split(separator: ".")
        let b = try f.token(sub: "user_b").split(separator: ".")
        assertReason(v, "\(a[0]).\(b[1]).\(a[2])", "signature_invalid")  // payload swapped in from another token
        assertReason(v, "\(a[0]).\(a[1]).\(b[2])", "signature_invalid")
        assertReason(v, "\(a[0]).\(a[1]).", "signature_invalid")
    }

    func testSignatureIsCheckedBeforeClaims() throws {
        let (v, _) = verifier()
        let impostor = try DevelopmentKey(keyId: "ins_test_1")
        // An expired, unsigned-by-us token says "signature", never "expired": no oracle for claim checks.
        assertReason(v, try f.token(ttl: -3600, signer: impostor), "signature_invalid")
    }

    func testTimeClaimsWithLeeway() throws {
        let (v, _) = verifier()
        let now = Clock.nowSeconds()
        assertReason(v, try f.token(ttl: -6, now: now), "token_expired")
        XCTAssertNoThrow(try v.verify(f.token(ttl: -3, now: now), nowMs: now * 1000), "within the 5 s skew")
        assertReason(
            v, try f.token(claims: #"{"sub":"u","iss":"https://clerk.test.example","exp":\#(now + 60),"nbf":\#(now + 30)}"#),
            "token_not_yet_valid")
        assertReason(
            v, try f.token(claims: #"{"sub":"u","iss":"https://clerk.test.example","exp":\#(now + 60),"iat":\#(now + 30)}"#),
            "token_iat_in_future")
    }

    func testIssuerAuthorizedPartyAndPendingSessions() throws {
        let (v, _) = verifier()
        assertReason(v, try f.token(issuer: "https://evil.example"), "issuer_mismatch")
        let (open, _) = verifier(issuer: nil)
        XCTAssertNoThrow(try open.verify(f.token(issuer: "https://anything.example"), nowMs: Clock.nowMs()))
        assertReason(open, try f.token(issuer: "http://clerk.test.example"), "issuer_mismatch")
        let (strict, _) = verifier(parties: ["https://app.example.com"])
        XCTAssertNoThrow(try strict.verify(f.token(azp: "https://app.example.com"), nowMs: Clock.nowMs()))
        assertReason(strict, try f.token(azp: "https://evil.example"), "azp_not_allowed")
        assertReason(strict, try f.token(), "azp_not_allowed")
        let pendingToken = try f.token(
            claims: DevelopmentKey.sessionClaims(subject: "u", issuer: f.issuer, now: Clock.nowSeconds())
                .replacingAll(#""sts":"active""#, with: #""sts":"pending""#))
        assertReason(v, pendingToken, "session_pending")
        let (accepting, _) = verifier(pending: true)
        XCTAssertNoThrow(try accepting.verify(pendingToken, nowMs: Clock.nowMs()))
    }

    func testKeysAreFetchedOnceAndCached() throws {
        let (v, cache) = verifier()
        for _ in 0..<5 { _ = try v.verify(f.token(), nowMs: Clock.nowMs()) }
        XCTAssertEqual(f.requests, 1)
        XCTAssertEqual(cache.fetchCount, 1)
        _ = try v.verify(f.token(ttl: 3600), nowMs: Clock.nowMs() + 301_000)
        XCTAssertEqual(f.requests, 2, "refreshed after the TTL")
    }

    func testRotationANewKidIsPickedUpAtOnce() throws {
        let (v, _) = verifier()
        _ = try v.verify(f.token(), nowMs: Clock.nowMs())
        let next = try DevelopmentKey(keyId: "ins_test_2")
        f.document = #"{"keys":[\#(f.key.jwk(algorithm: nil)),\#(next.jwk(algorithm: nil))]}"#
        XCTAssertNoThrow(try v.verify(f.token(signer: next), nowMs: Clock.nowMs()))
        XCTAssertEqual(f.requests, 2)
    }

    func testUnknownKidsRefetchAtMostOncePer30Seconds() throws {
        let (v, _) = verifier()
        _ = try v.verify(f.token(), nowMs: Clock.nowMs())
        let stranger = try DevelopmentKey(keyId: "ins_junk")
        let now = Clock.nowMs()
        for i in 0..<20 { assertReason(v, try f.token(signer: stranger), "kid_unknown", nowMs: now + Int64(i) * 1000) }
        XCTAssertEqual(f.requests, 2, "one refetch for twenty junk kids within 30 s")
        assertReason(v, try f.token(ttl: 3600, signer: stranger), "kid_unknown", nowMs: now + 31_000)
        XCTAssertEqual(f.requests, 3)
    }

    func testJWKSDownSlowOrGarbage() throws {
        f.status = 503
        assertReason(verifier().0, try f.token(), "jwks_unavailable")
        f.status = 200
        f.document = "<html>nope</html>"
        assertReason(verifier().0, try f.token(), "jwks_unavailable")
        f.document = #"{"keys":[{"kty":"EC","kid":"x","crv":"P-256","x":"a","y":"b"}]}"#
        assertReason(verifier().0, try f.token(), "jwks_unavailable")
        f.document = f.key.jwks(algorithm: nil)
        f.delayMs = 1500
        let started = Clock.monotonicNs()
        assertReason(verifier(timeoutMs: 300).0, try f.token(), "jwks_unavailable")
        XCTAssertLessThan(Clock.monotonicNs() - started, 1_400_000_000, "the fetch gave up at its timeout")
        f.delayMs = 0
        f.server.stop()
        assertReason(verifier().0, try f.token(), "jwks_unavailable")
    }

    func testAFailedRefreshServesCachedKeysUntilTwiceTheTTL() throws {
        let (v, _) = verifier(ttl: 100)
        let now = Clock.nowMs()
        _ = try v.verify(f.token(ttl: 3600), nowMs: now)
        f.status = 500
        XCTAssertNoThrow(try v.verify(f.token(ttl: 3600), nowMs: now + 150_000), "stale but within 2x TTL")
        assertReason(v, try f.token(ttl: 3600), "jwks_unavailable", nowMs: now + 201_000)
    }

    func testBackendAPISendsTheSecretKeyAsBearer() throws {
        let (v, _) = verifier(source: .remote(url: f.server.baseURL + "/v1/jwks", headers: ["Authorization: Bearer sk_test_abc"]))
        XCTAssertNoThrow(try v.verify(f.token(), nowMs: Clock.nowMs()))
        XCTAssertEqual(f.lastAuthorization, "Bearer sk_test_abc")
    }

    func testPEMKeyNeedsNoNetwork() throws {
        let (v, _) = verifier(source: .pem(try RSAPublicKey(pem: f.key.publicPEM)))
        f.server.stop()
        XCTAssertNoThrow(try v.verify(f.token(), nowMs: Clock.nowMs()))
        assertReason(v, try f.token(signer: DevelopmentKey()), "signature_invalid")
    }

    func testTwoInstancesNeverShareKeys() throws {
        let dev = try TokenFixture(issuer: "https://dev.clerk.example", keyId: "ins_same")
        let prod = try TokenFixture(issuer: "https://prod.clerk.example", keyId: "ins_same")
        let v = TokenVerifier(instances: [
            .init(issuer: dev.issuer, environment: "development", keys: JWKSCache(source: .remote(url: dev.jwksURL, headers: []), logger: quiet)),
            .init(issuer: prod.issuer, environment: "production", keys: JWKSCache(source: .remote(url: prod.jwksURL, headers: []), logger: quiet))
        ])
        XCTAssertEqual(try v.verify(dev.token(), nowMs: Clock.nowMs()).environment, "development")
        XCTAssertEqual(try v.verify(prod.token(), nowMs: Clock.nowMs()).environment, "production")
        // Claiming the dev issuer with prod's key (same kid): dev's keys are tried, and refuse it.
        assertReason(v, try prod.token(issuer: dev.issuer), "signature_invalid")
        assertReason(v, try prod.token(issuer: "https://other.clerk.example"), "issuer_mismatch")
    }
}
