import ClerkKitTestSupport
import ClerkStandIn
import DevTools
import Foundation
import LambdaRuntime
import LocalHosting
import RuntimeSupport
import XCTest

@testable import ClerkKit

/// Token signatures checked against oracles the project did not write: RFC 7515's own RS256 example, and
/// tokens the `openssl` CLI signs with a key it generated. The other token tests sign with `DevelopmentKey`,
/// which takes its digest from the verifier's own `TokenAlgorithm.shaBits`: a wrong digest for one
/// algorithm would be agreed on by signer and verifier alike. Nothing here goes through `DevelopmentKey`
/// or the project's `Base64` encoder.
final class TokenOracleTests: XCTestCase {
    let quiet = Logger(level: .error)

    // MARK: RFC 7515 Appendix A.2 (RS256)

    /// The JWS of RFC 7515 A.2, as the RFC prints it (its header is `{"alg":"RS256"}`, no `kid`; its
    /// payload has `iss: joe` and an `exp` of 2011).
    static let rfcToken =
        "eyJhbGciOiJSUzI1NiJ9"
        + ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
        + ".cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZ"
        + "cAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOk"
        + "HWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw"
    /// The RFC's RSA public key (A.2.1), as the JWK members `n` and `e`.
    static let rfcN =
        "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCg"
        + "NMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtd"
        + "VMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"
    static let rfcE = "AQAB"

    /// A verifier over the RFC's key, read from a JWKS document as production reads keys, and served as the
    /// instance's one configured key (the RFC's header has no `kid` to look a key up by). No issuer is pinned.
    func rfcVerifier() throws -> TokenVerifier {
        let jwks = #"{"keys":[{"kty":"RSA","kid":"rfc7515","use":"sig","n":"\#(Self.rfcN)","e":"\#(Self.rfcE)"}]}"#
        let key = try XCTUnwrap(JSONWebKeySet.parse(Array(jwks.utf8))["rfc7515"])
        let cache = JWKSCache(source: .pem(key.key), logger: quiet)
        return TokenVerifier(instances: [.init(issuer: nil, environment: "rfc", keys: cache)])
    }

    /// The signature check itself (`signedBy`, which `verify` and the machine-token path call before any claim)
    /// accepts the RFC's RS256 signature, and refuses it under SHA-384 and SHA-512 and over a changed payload.
    func testRFC7515RS256ExampleVerifies() throws {
        let verifier = try rfcVerifier()
        let parsed = try ParsedToken.parse(Self.rfcToken)
        XCTAssertEqual(parsed.algorithm, "RS256")
        XCTAssertEqual(try verifier.signedBy(parsed, algorithm: .rs256, nowMs: 1_300_819_000_000).environment, "rfc")
        for wrong in [TokenAlgorithm.rs384, .rs512] {
            XCTAssertThrowsError(try verifier.signedBy(parsed, algorithm: wrong, nowMs: 1_300_819_000_000), "\(wrong)") { error in
                XCTAssertEqual(error as? TokenError, .invalidSignature)
            }
        }
        let parts = Self.rfcToken.split(separator: ".").map(String.init)
        let otherPayload = Self.base64url(Array(#"{"iss":"joe","exp":1300819380,"http://example.com/is_root":false}"#.utf8))
        let tampered = try ParsedToken.parse(parts[0] + "." + otherPayload + "." + parts[2])
        XCTAssertThrowsError(try verifier.signedBy(tampered, algorithm: .rs256, nowMs: 1_300_819_000_000)) { error in
            XCTAssertEqual(error as? TokenError, .invalidSignature)
        }
    }

    /// Through the public `verify`: the RFC's token gets past the signature (it is refused only for what
    /// a Clerk session needs and the RFC's claims lack, `sub`), while a one-bit change of its signature is
    /// refused as a signature.
    func testRFC7515ExampleThroughVerifyFailsOnlyOnClaims() throws {
        let verifier = try rfcVerifier()
        XCTAssertThrowsError(try verifier.verify(Self.rfcToken, nowMs: 1_300_819_000_000)) { error in
            XCTAssertEqual(error as? TokenError, .malformed("sub is missing"))
        }
        var signature = try XCTUnwrap(Self.base64urlDecode(String(Self.rfcToken.split(separator: ".")[2])))
        signature[100] ^= 0x01
        let parts = Self.rfcToken.split(separator: ".").map(String.init)
        XCTAssertThrowsError(try verifier.verify(parts[0] + "." + parts[1] + "." + Self.base64url(signature), nowMs: 1_300_819_000_000)) { error in
            XCTAssertEqual(error as? TokenError, .invalidSignature)
        }
    }

    // MARK: Tokens the openssl CLI signs

    /// A key the openssl CLI generated, its public key as PEM and as a JWK, and its signatures.
    struct OpenSSLKey {
        let directory: URL
        let privatePath: String
        let publicPEM: String
        /// `n` and `e` in base64url, from `openssl rsa -modulus` and `-text` (never the project's encoder).
        let n: String, e: String
    }

    static let issuer = "https://clerk.oracle.example"
    static let digests = ["RS256": "-sha256", "RS384": "-sha384", "RS512": "-sha512"]

    /// RS256, RS384 and RS512 tokens the CLI signed verify through a JWKS over HTTP and through a PEM key.
    func testOpenSSLSignedTokensVerifyThroughJWKSAndPEM() throws {
        let key = try Self.makeKey()
        defer { try? FileManager.default.removeItem(at: key.directory) }
        let (verifiers, endpoint) = try verifiers(key)
        defer { withExtendedLifetime(endpoint) {} }
        for (alg, digest) in Self.digests.sorted(by: { $0.key < $1.key }) {
            let token = try Self.sign(key, alg: alg, digest: digest, sub: "user_\(alg)")
            for (source, verifier) in verifiers {
                do {
                    let session = try verifier.verify(token, nowMs: Clock.nowMs())
                    XCTAssertEqual(session.claims.subject, "user_\(alg)")
                } catch {
                    XCTFail("\(alg) (openssl \(digest)) through \(source): \(error)")
                }
            }
        }
    }

    /// Signed with one SHA-2 and labelled with another: refused as a signature, for every pair, whichever way
    /// the key is configured.
    func testOpenSSLTokensLabelledWithAnotherAlgorithmAreRefused() throws {
        let key = try Self.makeKey()
        defer { try? FileManager.default.removeItem(at: key.directory) }
        let (verifiers, endpoint) = try verifiers(key)
        defer { withExtendedLifetime(endpoint) {} }
        for (signedAs, digest) in Self.digests.sorted(by: { $0.key < $1.key }) {
            for label in Self.digests.keys.sorted() where label != signedAs {
                let token = try Self.sign(key, alg: label, digest: digest, sub: "user_mislabelled")
                for (source, verifier) in verifiers {
                    XCTAssertThrowsError(try verifier.verify(token, nowMs: Clock.nowMs()), "\(digest) labelled \(label), \(source)") { error in
                        XCTAssertEqual(error as? TokenError, .invalidSignature, "\(digest) labelled \(label), \(source)")
                    }
                }
            }
        }
    }

    /// Verifiers for `key`: its JWKS served over loopback HTTP (with no `alg`, and with the token's own
    /// `alg` declared per key), and its PEM as `CLERK_JWT_KEY`.
    func verifiers(_ key: OpenSSLKey) throws -> ([(String, TokenVerifier)], ScriptedEndpoint) {
        let jwks = #"{"keys":[{"kty":"RSA","kid":"oracle_1","use":"sig","n":"\#(key.n)","e":"\#(key.e)"}]}"#
        let endpoint = try ScriptedEndpoint(body: jwks)
        func verifier(_ source: KeySource) -> TokenVerifier {
            TokenVerifier(instances: [
                .init(
                    issuer: Self.issuer, environment: "production",
                    keys: JWKSCache(source: source, timeoutMs: 2000, logger: quiet))
            ])
        }
        return (
            [
                ("jwks", verifier(.remote(url: endpoint.server.baseURL + "/.well-known/jwks.json", headers: []))),
                ("pem", verifier(.pem(try RSAPublicKey(pem: key.publicPEM))))
            ], endpoint
        )
    }

    /// Generates a 2048-bit key with the CLI and reads its public parts back with the CLI.
    static func makeKey() throws -> OpenSSLKey {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("token-oracle-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("key.pem").path
        _ = try run(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", path])
        let publicPEM = String(decoding: try run(["pkey", "-in", path, "-pubout"]), as: UTF8.self)
        let modulus = String(decoding: try run(["rsa", "-in", path, "-noout", "-modulus"]), as: UTF8.self)
        let hex = try XCTUnwrap(modulus.split(separator: "=").last).trimmingCharacters(in: .whitespacesAndNewlines)
        let text = String(decoding: try run(["rsa", "-in", path, "-noout", "-text"]), as: UTF8.self)
        XCTAssertTrue(text.contains("publicExponent: 65537 (0x10001)"), "the CLI's default exponent")
        return OpenSSLKey(
            directory: dir, privatePath: path, publicPEM: publicPEM,
            n: base64url(try XCTUnwrap(bytes(hex: hex))), e: base64url([0x01, 0x00, 0x01]))
    }

    /// `header.payload` signed by `openssl dgst <digest> -sign`, the header labelled `alg`.
    static func sign(_ key: OpenSSLKey, alg: String, digest: String, sub: String) throws -> String {
        let now = Int64(Date().timeIntervalSince1970)
        let header = #"{"alg":"\#(alg)","kid":"oracle_1","typ":"JWT"}"#
        let claims =
            #"{"sub":"\#(sub)","iss":"\#(issuer)","iat":\#(now),"nbf":\#(now - 10),"exp":\#(now + 60),"#
            + #""sid":"sess_oracle","v":2,"sts":"active"}"#
        let input = base64url(Array(header.utf8)) + "." + base64url(Array(claims.utf8))
        let signature = try run(["dgst", digest, "-sign", key.privatePath], stdin: Array(input.utf8))
        XCTAssertEqual(signature.count, 256)
        return input + "." + base64url(signature)
    }

    /// Runs the openssl CLI; a failure (or no CLI at all) fails the test with its stderr.
    static func run(_ arguments: [String], stdin: [UInt8]? = nil) throws -> [UInt8] {
        let r = try Subprocess.run(path: "/usr/bin/openssl", arguments: arguments, environment: ["PATH": "/usr/bin:/bin"], stdinBytes: stdin)
        guard r.exit.code == 0, !r.exit.signaled else {
            throw OpenSSLFailed(arguments: arguments, stderr: String(decoding: r.stderr, as: UTF8.self))
        }
        return r.stdout
    }

    struct OpenSSLFailed: Error {
        let arguments: [String]
        let stderr: String
    }

    // MARK: The test's own base64url and hex (RFC 4648 §5, by hand)

    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    static func base64url(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let chunk = Array(bytes[i..<min(i + 3, bytes.count)])
            let v = chunk.enumerated().reduce(0) { $0 | Int($1.element) << (16 - 8 * $1.offset) }
            for j in 0...chunk.count { out.append(alphabet[(v >> (18 - 6 * j)) & 0x3F]) }
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func base64urlDecode(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        var acc = 0
        var bits = 0
        for c in text.utf8 {
            guard let v = alphabet.firstIndex(of: c) else { return nil }
            acc = (acc << 6 | v) & 0xFFFFFF
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8((acc >> bits) & 0xFF))
            }
        }
        return out
    }

    static func bytes(hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        for i in stride(from: 0, to: digits.count, by: 2) {
            guard let byte = UInt8(String(decoding: digits[i..<(i + 2)], as: UTF8.self), radix: 16) else { return nil }
            out.append(byte)
        }
        return out
    }
}
