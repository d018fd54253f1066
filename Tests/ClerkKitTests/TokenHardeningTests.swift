import ClerkKit
import ClerkKitTestSupport
import ClerkStandIn
import DevTools
import HTTPClient
import JSON
import LambdaRuntime
import LocalHosting
import RuntimeSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// Hostile tokens and key sets (issue 10, items 1, 5, 6, 7): nothing traps, one spelling per token, claims
/// read only after the signature, weak keys refused, a failing JWKS endpoint fetched once per backoff.
final class TokenHardeningTests: XCTestCase {
    var f: TokenFixture!
    let quiet = Logger(level: .error)

    override func setUpWithError() throws { f = try TokenFixture() }

    func verifier(ttl: Int = 300, timeoutMs: Int = 2000, source: KeySource? = nil, logger: Logger? = nil) -> (TokenVerifier, JWKSCache) {
        let cache = JWKSCache(
            source: source ?? .remote(url: f.jwksURL, headers: []), ttlSeconds: ttl, timeoutMs: timeoutMs,
            logger: logger ?? quiet)
        return (TokenVerifier(instances: [.init(issuer: f.issuer, environment: "production", keys: cache)]), cache)
    }

    func assertReason(
        _ v: TokenVerifier, _ token: String, _ reason: String, nowMs: Int64 = Clock.nowMs(),
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertThrowsError(try v.verify(token, nowMs: nowMs), file: file, line: line) { error in
            XCTAssertEqual((error as? TokenError)?.reason, reason, "\(error)", file: file, line: line)
        }
    }

    /// `header.payload.signature` with the payload given as raw bytes (possibly not UTF-8), signature junk.
    func unsigned(payload: [UInt8]) throws -> String {
        let parts = try f.token().split(separator: ".")
        return "\(parts[0]).\(Base64.encode(payload, url: true)).\(parts[2])"
    }

    func claims(_ extra: String) -> String {
        DevelopmentKey.sessionClaims(subject: "user_h", issuer: f.issuer, now: Clock.nowSeconds(), extra: extra)
    }

    // MARK: Item 1: no trap, and no claim read before the signature.

    func testHugeNumbersInClaimsNeverTrap() throws {
        let (v, _) = verifier()
        // Unsigned: refused on the signature, before `v` is looked at (this trapped in Int(Double)).
        assertReason(v, try unsigned(payload: Array(#"{"sub":"user_x","iss":"\#(f.issuer)","v":1e300}"#.utf8)), "signature_invalid")
        // Signed: a version that is no Int is malformed, not a crash.
        for v2 in ["9.3e18", "1e300", "-1e300", "2.5"] {
            assertReason(v, try f.token(claims: claims("").replacingAll(#""v":2"#, with: #""v":\#(v2)"#)), "token_malformed")
        }
        XCTAssertEqual(try v.verify(f.token(), nowMs: Clock.nowMs()).claims.version, 2)
    }

    func testClaimsAreNotInterpretedBeforeTheSignature() throws {
        let (v, _) = verifier()
        let impostor = try DevelopmentKey(keyId: "ins_test_1")
        // A claim of the wrong type in a token we did not sign: the answer is about the signature only.
        assertReason(v, try f.token(claims: #"{"sub":5,"iss":"\#(f.issuer)","exp":"soon","v":"x"}"#, signer: impostor), "signature_invalid")
        // `iss` is the exception (it picks the keys), so a non-string iss is malformed up front.
        assertReason(v, try f.token(claims: #"{"sub":"u","iss":5,"exp":1}"#, signer: impostor), "token_malformed")
    }

    // MARK: Item 6: one accepted spelling.

    func testDuplicateClaimsOutOfRangeNumbersLeadingZerosAndBadUTF8AreMalformed() throws {
        let (v, _) = verifier()
        let now = Clock.nowSeconds()
        let dupSub = #"{"sub":"user_a","iss":"\#(f.issuer)","exp":\#(now + 60),"sub":"user_b"}"#
        assertReason(v, try f.token(claims: dupSub), "token_malformed")
        let dupNested = #"{"sub":"user_a","iss":"\#(f.issuer)","exp":\#(now + 60),"o":{"id":"org_1","id":"org_2"}}"#
        assertReason(v, try f.token(claims: dupNested), "token_malformed")
        assertReason(v, try f.token(header: #"{"alg":"RS256","kid":"ins_test_1","kid":"ins_other"}"#), "token_malformed")
        assertReason(v, try f.token(claims: #"{"sub":"user_a","iss":"\#(f.issuer)","exp":1e400}"#), "token_malformed")
        assertReason(v, try f.token(claims: #"{"sub":"user_a","iss":"\#(f.issuer)","exp":0\#(now + 60)}"#), "token_malformed")
        assertReason(v, try f.token(claims: #"{"sub":"user_a","iss":"\#(f.issuer)","exp":\#(now + 60),"nbf":-01}"#), "token_malformed")
        // Invalid UTF-8 (a lone continuation byte, an overlong slash) in a string: malformed, not a signature question.
        for bad: [UInt8] in [[0x80], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80]] {
            let payload = Array(#"{"sub":"user_"#.utf8) + bad + Array(#"","iss":"\#(f.issuer)","exp":\#(now + 60)}"#.utf8)
            assertReason(v, try unsigned(payload: payload), "token_malformed")
        }
        // A header field we read must be a string (`"kid": 5` is not "no kid").
        assertReason(v, try f.token(header: #"{"alg":"RS256","kid":5}"#), "token_malformed")
    }

    func testOnlyCanonicalBase64URLIsAccepted() throws {
        let (v, _) = verifier()
        var good = try f.token()
        // Make sure the signature has a URL-alphabet character to swap (re-sign until it does).
        while !good.split(separator: ".")[2].contains(where: { $0 == "-" || $0 == "_" }) { good = try f.token() }
        XCTAssertNoThrow(try v.verify(good, nowMs: Clock.nowMs()))
        let p = good.split(separator: ".").map(String.init)
        func padded(_ s: String) -> String { s + String(repeating: "=", count: (4 - s.count % 4) % 4) }
        XCTAssertEqual(p[2].count % 4, 2, "256-byte signatures leave room for padding")
        assertReason(v, "\(p[0]).\(p[1]).\(padded(p[2]))", "token_malformed")
        assertReason(v, "\(p[0]).\(p[1]).\(p[2])=", "token_malformed")
        if p[1].count % 4 != 0 { assertReason(v, "\(p[0]).\(padded(p[1])).\(p[2])", "token_malformed") }
        let standard = p[2].replacingAll("-", with: "+").replacingAll("_", with: "/")
        assertReason(v, "\(p[0]).\(p[1]).\(standard)", "token_malformed")
        // The last character of a 342-character signature carries 2 bits; setting an unused one is another spelling.
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        let last = p[2].last!
        let index = alphabet.firstIndex(of: last)!
        XCTAssertEqual(index & 0x0F, 0, "a canonical encoding leaves the low bits zero")
        let variant = String(p[2].dropLast()) + String(alphabet[index | 1])
        assertReason(v, "\(p[0]).\(p[1]).\(variant)", "token_malformed")
    }

    // MARK: Item 5: a failing or hanging JWKS endpoint is fetched once per backoff.

    func testAFailingJWKSEndpointIsFetchedOncePerBackoffWhileStaleKeysServe() throws {
        let (v, cache) = verifier(ttl: 100)
        let now = Clock.nowMs()
        _ = try v.verify(f.token(ttl: 3600), nowMs: now)
        XCTAssertEqual(cache.fetchCount, 1)
        f.status = 500
        for i in 0..<20 {
            XCTAssertNoThrow(try v.verify(f.token(ttl: 3600), nowMs: now + 101_000 + Int64(i) * 1000), "stale keys serve")
        }
        XCTAssertEqual(cache.fetchCount, 2, "one failed refresh, then no fetch during the backoff")
        XCTAssertNoThrow(try v.verify(f.token(ttl: 3600), nowMs: now + 132_000))
        XCTAssertEqual(cache.fetchCount, 3, "the next try after 30 s")
        f.status = 200
        XCTAssertNoThrow(try v.verify(f.token(ttl: 3600), nowMs: now + 163_000))
        XCTAssertEqual(cache.fetchCount, 4)
        XCTAssertNoThrow(try v.verify(f.token(ttl: 3600), nowMs: now + 164_000))
        XCTAssertEqual(cache.fetchCount, 4, "fresh again: no more fetches")
    }

    func testAHangingJWKSEndpointCostsOneTimeoutNotOnePerCheck() throws {
        f.delayMs = 1500
        let (v, cache) = verifier(timeoutMs: 300)
        let now = Clock.nowMs()
        for i in 0..<10 { assertReason(v, try f.token(ttl: 3600), "jwks_unavailable", nowMs: now + Int64(i) * 1000) }
        XCTAssertEqual(cache.fetchCount, 1, "one fetch waited for the timeout; the other nine failed at once")
        usleep(1_500_000)  // let the endpoint finish its slow answer before it is asked again
        f.delayMs = 0
        XCTAssertNoThrow(try v.verify(f.token(ttl: 3600), nowMs: now + 31_000))
        XCTAssertEqual(cache.fetchCount, 2, "fetched again once the backoff is over")
    }

    func testHugeCacheSettingsDoNotOverflow() throws {
        let (v, _) = verifier(ttl: Int.max)
        XCTAssertNoThrow(try v.verify(f.token(), nowMs: Clock.nowMs()))
    }

    // MARK: Item 7: weak keys, kid-less tokens, protocols.

    func testAJWKWithExponentOneIsRefusedAndItsForgeryFails() throws {
        let jwk = f.key.jwk(algorithm: nil)
        let n = try XCTUnwrap(JSONValue.parse(Array(jwk.utf8))["n"]?.stringValue)
        let modulus = try XCTUnwrap(Base64.decode(n))
        f.document = #"{"keys":[{"kty":"RSA","use":"sig","kid":"ins_test_1","n":"\#(n)","e":"AQ"}]}"#
        // With e = 1 the "signature" is the PKCS#1 v1.5 encoding of the digest itself: anyone can make it.
        let header = Base64.encode(Array(#"{"alg":"RS256","kid":"ins_test_1","typ":"JWT"}"#.utf8), url: true)
        let payload = Base64.encode(Array(claims("").utf8), url: true)
        let digest = Crypto.sha256(Array("\(header).\(payload)".utf8)).array
        let digestInfo: [UInt8] = [0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20]
        let pad = modulus.count - 3 - digestInfo.count - digest.count
        let encoded: [UInt8] = [0x00, 0x01] + [UInt8](repeating: 0xFF, count: pad) + [0x00] + digestInfo + digest
        let forged = "\(header).\(payload).\(Base64.encode(encoded, url: true))"
        let logPath = "/tmp/clerk-weak-key-\(getpid())-\(Clock.monotonicNs())"
        let fd = open(logPath, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0o600)
        defer {
            close(fd)
            unlink(logPath)
        }
        let (v, _) = verifier(logger: Logger(level: .debug, fd: fd))
        assertReason(v, forged, "jwks_unavailable")
        XCTAssertTrue(logText(logPath).contains("key_weak"), "the refused key is logged with its reason")
        // Even exponents, and e = 1 next to a good key: only the good key is taken.
        XCTAssertThrowsError(try RSAPublicKey(n: n, e: "AQ")) { XCTAssertEqual(($0 as? RSAPublicKey.KeyError)?.reason, "key_weak") }
        XCTAssertThrowsError(try RSAPublicKey(n: n, e: "AQAA")) { XCTAssertEqual(($0 as? RSAPublicKey.KeyError)?.reason, "key_weak") }
        XCTAssertNoThrow(try RSAPublicKey(n: n, e: "AQAB"))
        var skipped: [JSONWebKeySet.Skipped] = []
        let other = try DevelopmentKey(keyId: "ins_good")
        let keys = try JSONWebKeySet.parse(
            Array(
                #"{"keys":[{"kty":"RSA","kid":"weak","n":"\#(n)","e":"Aw"},{"kty":"RSA","kid":"one","n":"\#(n)","e":"AQ"},\#(other.jwk(algorithm: nil))]}"#
                    .utf8), skipped: &skipped)
        XCTAssertEqual(Set(keys.keys), ["weak", "ins_good"], "e = 3 is odd and at least 3")
        XCTAssertEqual(skipped.map { "\($0.keyId ?? "-"):\($0.reason)" }, ["one:key_weak"])
        let small = try DevelopmentKey(bits: 1024, keyId: "small")
        XCTAssertThrowsError(try JSONWebKeySet.parse(Array(small.jwks(algorithm: nil).utf8)))
    }

    func testATokenWithoutKidIsRefusedWithAJWKSAndAcceptedWithOnePEMKey() throws {
        let (v, cache) = verifier()
        let kidless = try f.token(header: #"{"alg":"RS256","typ":"JWT"}"#)
        assertReason(v, kidless, "kid_missing")
        XCTAssertEqual(cache.fetchCount, 0, "refused before any fetch")
        _ = try v.verify(f.token(), nowMs: Clock.nowMs())
        assertReason(v, kidless, "kid_missing")
        let (pem, _) = verifier(source: .pem(try RSAPublicKey(pem: f.key.publicPEM)))
        XCTAssertNoThrow(try pem.verify(kidless, nowMs: Clock.nowMs()))
        XCTAssertThrowsError(try RSAPublicKey(pem: ""))
    }

    /// A JWKS key without a `kid` is skipped (`kid_missing`), so no token reaches it, not even one whose header
    /// names the empty `kid`.
    func testAKeyWithoutKidIsSkippedAndNoTokenCanNameIt() throws {
        let jwk = try JSONValue.parse(Array(f.key.jwk(algorithm: nil).utf8))
        let (n, e) = (try XCTUnwrap(jwk["n"]?.stringValue), try XCTUnwrap(jwk["e"]?.stringValue))
        let other = try DevelopmentKey(keyId: "ins_other")
        f.document =
            #"{"keys":[{"kty":"RSA","use":"sig","n":"\#(n)","e":"\#(e)"},{"kty":"RSA","use":"sig","kid":"","n":"\#(n)","e":"\#(e)"},\#(other.jwk(algorithm: nil))]}"#
        var skipped: [JSONWebKeySet.Skipped] = []
        let keys = try JSONWebKeySet.parse(Array(f.document.utf8), skipped: &skipped)
        XCTAssertEqual(keys.keys.sorted(), ["ins_other"])
        XCTAssertEqual(skipped.map { "\($0.keyId ?? "-"):\($0.reason)" }, ["-:kid_missing", "-:kid_missing"])
        let (v, _) = verifier()
        _ = try v.verify(f.token(header: #"{"alg":"RS256","kid":"ins_other","typ":"JWT"}"#, signer: other), nowMs: Clock.nowMs())
        assertReason(v, try f.token(header: #"{"alg":"RS256","kid":"","typ":"JWT"}"#), "kid_unknown")
    }

    func testLibcurlSpeaksOnlyHTTPAndHTTPS() throws {
        let client = try HTTPClient()
        for url in ["file:///etc/hostname", "dict://127.0.0.1:1/x", "gopher://127.0.0.1:1/x", "ftp://127.0.0.1:1/x"] {
            XCTAssertThrowsError(try client.send(method: "GET", url: url, timeoutMs: 2000, connectTimeoutMs: 1000), url) { error in
                XCTAssertEqual((error as? CurlError)?.code, 1, "\(url): CURLE_UNSUPPORTED_PROTOCOL, not \(error)")
            }
        }
        XCTAssertEqual(try client.send(method: "GET", url: f.jwksURL, timeoutMs: 2000, connectTimeoutMs: 1000).status, 200)
    }
}
