import ClerkKit
import DevTools
import FuzzSupport
import Logging

/// A fixed key for the whole run: tokens the fuzzer builds in signed mode verify, so the claim checks
/// after the signature are reached too.
nonisolated(unsafe) let signer = try! DevelopmentKey(keyId: "ins_fuzz")
nonisolated(unsafe) let verifier = TokenVerifier(
    instances: [
        .init(
            issuer: nil, environment: "production",
            keys: JWKSCache(source: .pem(try! RSAPublicKey(pem: signer.publicPEM)), logger: Logger(label: "fuzz")))
    ])

/// libFuzzer entry: the session-token parser and verifier. The first byte picks the mode: even, the rest
/// is a token as sent; odd, the rest is a payload (and, after a newline, a header) signed with the fixed key.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzToken(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    guard size > 0 else { return 0 }
    let rest = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let now: Int64 = 1_700_000_000_000
    if data[0] & 1 == 0 {
        let text = String(decoding: rest, as: UTF8.self)
        check(text, now: now)
    } else {
        let parts = rest.split(separator: 0x0A, maxSplits: 1, omittingEmptySubsequences: false)
        let payload = String(decoding: parts[0], as: UTF8.self)
        let header = parts.count > 1 ? String(decoding: parts[1], as: UTF8.self) : nil
        guard let token = try? signer.sign(payloadJSON: payload, header: header) else { return 0 }
        check(token, now: now)
    }
    return 0
}

/// Parses and verifies `text` both ways verifyToken may: the type told from the parsed token must be the
/// type told from the text (the handler parses once for both), and verifying the parsed token must end as
/// verifying the text does.
func check(_ text: String, now: Int64) {
    let byText = try? verifier.verify(text, nowMs: now)
    guard let parsed = try? ParsedToken.parse(text) else { return }
    if ClerkTokenType.detect(parsed) != ClerkTokenType.detect(text) { fatalError("token type differs when parsed first") }
    let byParsed = try? verifier.verify(parsed, nowMs: now)
    if (byText == nil) != (byParsed == nil) || byText?.claims.subject != byParsed?.claims.subject {
        fatalError("verification differs when parsed first")
    }
}

/// The process entry SwiftPM links for a testable executable (`main` is an alias of it): libFuzzer's
/// driver with the callback above.
@_cdecl("FuzzToken_main")
public func fuzztokenMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzToken(data, size) }
}
