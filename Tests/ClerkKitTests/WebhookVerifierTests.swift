import ClerkKit
import JSON
import LocalHosting
import XCTest

/// The Svix scheme, checked against the reference's test vector and every edge the public libraries get wrong.
final class WebhookVerifierTests: XCTestCase {
    // From Svix's Python library (svix 2.9.1), as given in shared/reference/svix.md.
    let vectorSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    let vectorId = "msg_p5jXN8AQM9LWM0D4loKWxJek"
    let vectorTimestamp: Int64 = 1_614_265_330
    let vectorBody = Array(#"{"test": 2432232314}"#.utf8)
    let vectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

    func verifier(
        _ entries: [(String, String)] = [("production", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")],
        tolerance: Int64 = 300
    ) throws -> WebhookVerifier {
        WebhookVerifier(
            entries: try entries.map { .init(environment: $0.0, secret: try WebhookSecret($0.1)) },
            toleranceSeconds: tolerance)
    }

    func headers(_ signature: String, id: String? = nil, ts: String? = nil) -> [String: String] {
        ["svix-id": id ?? vectorId, "svix-timestamp": ts ?? String(vectorTimestamp), "svix-signature": signature]
    }

    func verify(_ v: WebhookVerifier, _ h: [String: String], body: [UInt8]? = nil, now: Int64? = nil)
        throws(WebhookVerificationError) -> VerifiedWebhook
    {
        try v.verify(header: { h[$0] }, body: body ?? vectorBody, now: now ?? vectorTimestamp)
    }

    func testSvixTestVector() throws {
        let v = try verifier()
        let ok = try verify(v, headers(vectorSignature))
        XCTAssertEqual(ok, VerifiedWebhook(environment: "production", messageId: vectorId, timestamp: vectorTimestamp))
        let signer = WebhookSigner(secret: try WebhookSecret(vectorSecret))
        XCTAssertEqual(signer.signature(id: vectorId, timestamp: vectorTimestamp, body: vectorBody), vectorSignature)
    }

    func testStandardWebhooksHeaderNamesAreAccepted() throws {
        let h = ["webhook-id": vectorId, "webhook-timestamp": String(vectorTimestamp), "webhook-signature": vectorSignature]
        XCTAssertNoThrow(try verify(try verifier(), h))
    }

    func testAnyOfSeveralSignaturesMayMatchAndOtherVersionsAreIgnored() throws {
        let v = try verifier()
        XCTAssertNoThrow(try verify(v, headers("v2,abc v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \(vectorSignature)")))
        XCTAssertThrowsError(try verify(v, headers("v2," + vectorSignature.dropFirst(3)))) {
            XCTAssertEqual($0 as? WebhookVerificationError, .noMatchingSignature)
        }
    }

    /// The compare covers every byte of the MAC: a signature wrong in one bit, wherever it is, matches nothing.
    func testASignatureWrongInAnyOneBitIsRefused() throws {
        let v = try verifier()
        let mac = try XCTUnwrap(Base64.decode(String(vectorSignature.dropFirst(3))))
        XCTAssertEqual(mac.count, 32)
        for index in mac.indices {
            for bit in [0, 7] {
                var wrong = mac
                wrong[index] ^= UInt8(1 << bit)
                XCTAssertThrowsError(try verify(v, headers("v1," + Base64.encode(wrong))), "byte \(index), bit \(bit)") {
                    XCTAssertEqual($0 as? WebhookVerificationError, .noMatchingSignature)
                }
            }
        }
        XCTAssertNoThrow(try verify(v, headers("v1," + Base64.encode(mac))), "the same bytes, encoded again, match")
    }

    func testMalformedSignatureListsAreNoMatchNeverACrash() throws {
        let v = try verifier()
        for header in ["v1", "v1,", "v1,a,b", "v1,!!!notbase64!!!", "  ", "v1,YQ==", "garbage", "v1,\(vectorSignature.dropFirst(3)),x"] {
            XCTAssertThrowsError(try verify(v, headers(header)), header) { error in
                let e = error as? WebhookVerificationError
                XCTAssertTrue(e == .noMatchingSignature || e == .missingHeaders(["svix-signature"]), "\(header): \(error)")
            }
        }
        XCTAssertNoThrow(try verify(v, headers("v1,bad  \(vectorSignature)")), "two spaces in a row")
    }

    func testTimestampTolerance() throws {
        let v = try verifier()
        XCTAssertNoThrow(try verify(v, headers(vectorSignature), now: vectorTimestamp + 300))
        XCTAssertNoThrow(try verify(v, headers(vectorSignature), now: vectorTimestamp - 300))
        XCTAssertThrowsError(try verify(v, headers(vectorSignature), now: vectorTimestamp + 301)) {
            XCTAssertEqual($0 as? WebhookVerificationError, .timestampTooOld)
            XCTAssertEqual(($0 as? WebhookVerificationError)?.httpStatus, 401)
        }
        XCTAssertThrowsError(try verify(v, headers(vectorSignature), now: vectorTimestamp - 301)) {
            XCTAssertEqual($0 as? WebhookVerificationError, .timestampTooNew)
        }
        let wide = try verifier(tolerance: 100_000_000_000)
        XCTAssertNoThrow(try verify(wide, headers(vectorSignature), now: 0))
    }

    func testOnlyPlainIntegerTimestamps() throws {
        let v = try verifier()
        for ts in ["1614265330.9", "1614265330abc", "-1614265330", "+1614265330", "0x5f", "", "99999999999999999999"] {
            XCTAssertThrowsError(try verify(v, headers(vectorSignature, ts: ts)), ts) { error in
                let e = error as? WebhookVerificationError
                XCTAssertTrue(e == .invalidTimestamp || e == .missingHeaders(["svix-timestamp"]), "\(ts): \(error)")
                XCTAssertEqual(e?.httpStatus, 400)
            }
        }
    }

    func testMissingHeadersAreNamed() throws {
        XCTAssertThrowsError(try verify(try verifier(), ["svix-id": "x"])) {
            XCTAssertEqual($0 as? WebhookVerificationError, .missingHeaders(["svix-timestamp", "svix-signature"]))
        }
    }

    func testTheBodyIsSignedByteForByte() throws {
        let v = try verifier()
        XCTAssertThrowsError(try verify(v, headers(vectorSignature), body: Array(#"{"test":2432232314}"#.utf8)))
        XCTAssertThrowsError(try verify(v, headers(vectorSignature), body: vectorBody + [0x0A]))
        XCTAssertThrowsError(try verify(v, headers(vectorSignature, id: "msg_other")))
    }

    func testTheSecretThatMatchedDecidesTheEnvironmentAndRotationWorks() throws {
        let dev = WebhookSigner.newSecret()
        let oldProd = WebhookSigner.newSecret()
        let newProd = WebhookSigner.newSecret()
        let v = try verifier([("development", dev), ("production", oldProd), ("production", newProd)])
        for (secret, env) in [(dev, "development"), (oldProd, "production"), (newProd, "production")] {
            let h = WebhookSigner(secret: try WebhookSecret(secret)).headers(id: "msg_1", timestamp: 1000, body: vectorBody)
            XCTAssertEqual(try verify(v, h, now: 1000).environment, env)
        }
        let stranger = WebhookSigner(secret: try WebhookSecret(WebhookSigner.newSecret())).headers(id: "msg_1", timestamp: 1000, body: vectorBody)
        XCTAssertThrowsError(try verify(v, stranger, now: 1000))
    }

    func testSecretParsing() throws {
        XCTAssertNoThrow(try WebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
        XCTAssertNoThrow(try WebhookSecret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), "the prefix is optional")
        XCTAssertNoThrow(try WebhookSecret("whsec_YWJj"), "no padding needed")
        XCTAssertThrowsError(try WebhookSecret("whsec_")) { XCTAssertEqual($0 as? WebhookSecret.ParseError, .empty) }
        XCTAssertThrowsError(try WebhookSecret("whsec_not base64!")) { XCTAssertEqual($0 as? WebhookSecret.ParseError, .notBase64) }
        XCTAssertEqual(WebhookSecret.list("whsec_a, whsec_b  whsec_c"), ["whsec_a", "whsec_b", "whsec_c"])
    }

    func testBase64() {
        for n in 0..<40 {
            let bytes = (0..<n).map { UInt8(truncatingIfNeeded: $0 * 37 + 11) }
            XCTAssertEqual(Base64.decode(Base64.encode(bytes)), bytes)
            XCTAssertEqual(Base64.decode(Base64.encode(bytes, url: true)), bytes)
        }
        XCTAssertEqual(Base64.encode(Array("hello".utf8)), "aGVsbG8=")
        XCTAssertNil(Base64.decode("aGV=sbG8"))
        XCTAssertNil(Base64.decode("a"))
    }
}
