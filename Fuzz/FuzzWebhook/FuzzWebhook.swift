import FuzzSupport
import ClerkKit

/// The secret the seed corpus is signed with (scripts/fuzz.sh), so valid signatures are among the seeds.
let secret = try! WebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
let verifier = WebhookVerifier(entries: [.init(environment: "production", secret: secret)])

/// libFuzzer entry: the Svix header and signature parser. Input: `id\ntimestamp\nsignatures\nbody`;
/// the clock is the timestamp's own digits when it has some, so the signature comparison is reached.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWebhook(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let parts = bytes.split(separator: 0x0A, maxSplits: 3, omittingEmptySubsequences: false)
    func part(_ i: Int) -> String? { i < parts.count ? String(decoding: parts[i], as: UTF8.self) : nil }
    let body = parts.count > 3 ? Array(parts[3]) : []
    var now: Int64 = 1_700_000_000
    if let ts = part(1) {
        var v: Int64 = 0
        var n = 0
        for c in ts.utf8 where c >= 0x30 && c <= 0x39 && n < 12 { v = v * 10 + Int64(c - 0x30); n += 1 }
        if n > 0 { now = v }
    }
    _ = try? verifier.verify(header: { name in
        switch name {
        case "svix-id": part(0)
        case "svix-timestamp": part(1)
        case "svix-signature": part(2)
        default: nil
        }
    }, body: body, now: now)
    return 0
}

/// The process entry SwiftPM links for a testable executable (`main` is an alias of it): libFuzzer's
/// driver with the callback above.
@_cdecl("FuzzWebhook_main")
public func fuzzwebhookMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzWebhook(data, size) }
}
