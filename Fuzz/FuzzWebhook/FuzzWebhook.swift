import ClerkKit
import FuzzSupport

#if canImport(Glibc)
    import Glibc
#endif

/// The secrets: the one the seed corpus is signed with (scripts/fuzz.sh), and one longer than SHA-256's block
/// (64 bytes), which HMAC hashes first: the project's HMAC precomputes its pads, so both key paths are checked.
let secretTexts = [
    ("production", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
    ("development", "whsec_nBvbMR8Xo4TcgS4JAnuWTGaJ+OWbdp031xT3qhCJVpFsPE/r1gr63nIIBpZAL9QUJhz8qmjGnhVEfH1ssgS++rPtqHujn2hsAs1IqSIYGv8=")
]
let verifier = WebhookVerifier(entries: secretTexts.map { .init(environment: $0.0, secret: try! WebhookSecret($0.1)) })
let oracle = WebhookOracle(secrets: secretTexts.map { ($0.0, WebhookOracle.base64Decode(Array($0.1.utf8.dropFirst(6)))!) })

/// libFuzzer entry: the Svix verifier against `WebhookOracle`, an independent reading of the scheme (OpenSSL's
/// own one-shot HMAC, its own base64 and header parsing). The verifier must answer exactly what the oracle
/// does: accepted by the same secret with the same id and timestamp, or refused for the same reason.
///
/// Input: two control bytes, then `id\ntimestamp\nsignatures\nbody`. Control byte 0: bits 0-1 the clock (in
/// the window, at its late edge, at its early edge, or fixed), bits 2-3 whether to sign (three times in four
/// a signature the oracle computes over the input's own id, timestamp and body is put into the signature
/// header, so accepting is reached), bit 4 which secret signs, bits 5-6 where the signature goes (after the
/// others, before them, alone, or after them without its `=`), bit 7 one character of it changed. Control
/// byte 1: bit 7 serves the headers under their `webhook-` names; bits 0-6 the clock's offset.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWebhook(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data, size >= 2 else { return 0 }
    let control = data[0]
    let control2 = data[1]
    let bytes = Array(UnsafeBufferPointer(start: data + 2, count: size - 2))
    let parts = bytes.split(separator: 0x0A, maxSplits: 3, omittingEmptySubsequences: false)
    func part(_ i: Int) -> String? { i < parts.count ? String(decoding: parts[i], as: UTF8.self) : nil }
    let body = parts.count > 3 ? Array(parts[3]) : []
    let id = part(0)
    let timestamp = part(1)
    var signatures = part(2)
    if control & 0x0C != 0, let id, let timestamp {
        signatures = oracle.placeSignature(control: control, id: id, timestamp: timestamp, body: body, into: signatures ?? "")
    }
    let now = clock(control: control, offset: control2, timestamp: timestamp)
    let prefix = control2 & 0x80 != 0 ? "webhook-" : "svix-"
    let headers = [prefix + "id": id, prefix + "timestamp": timestamp, prefix + "signature": signatures]
    let verdict: Result<VerifiedWebhook, WebhookVerificationError>
    do {
        verdict = .success(try verifier.verify(header: { headers[$0] ?? nil }, body: body, now: now))
    } catch {
        verdict = .failure(error)
    }
    let expected = oracle.verdict(id: id, timestamp: timestamp, signatures: signatures, body: body, now: now)
    if verdict != expected {
        fatalError("the webhook verifier answered \(verdict), the oracle \(expected) (now \(now))")
    }
    if printVerdicts {
        switch verdict {
        case .success(let v): print("verdict: accepted \(v.environment)")
        case .failure(let e): print("verdict: \(e.reason)")
        }
    }
    return 0
}

/// `FUZZ_PRINT_VERDICTS=1`: one line per input with the verdict, to see that a corpus reaches both ways.
let printVerdicts = getenv("FUZZ_PRINT_VERDICTS") != nil

/// The clock: the timestamp's own leading digits (up to 18), moved by the control bytes so the window's
/// edges (300 s either way) are crossed both ways.
func clock(control: UInt8, offset: UInt8, timestamp: String?) -> Int64 {
    var value: Int64 = 0
    for c in (timestamp ?? "").utf8.prefix(18) {
        guard c >= 0x30 && c <= 0x39 else { break }
        value = value * 10 + Int64(c - 0x30)
    }
    let small = Int64(offset & 0x7F) - 64
    switch control & 0x03 {
    case 0: return value + small
    case 1: return value + 300 + small % 3
    case 2: return value - 300 + small % 3
    default: return 1_700_000_000
    }
}

/// The process entry SwiftPM links for a testable executable (`main` is an alias of it): libFuzzer's
/// driver with the callback above.
@_cdecl("FuzzWebhook_main")
public func fuzzwebhookMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzWebhook(data, size) }
}
