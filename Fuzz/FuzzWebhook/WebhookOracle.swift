import COpenSSL
import ClerkKit

/// Svix's scheme as shared/reference/svix.md states it, written apart from `WebhookVerifier`: the MAC is
/// OpenSSL's one-shot HMAC (`EVP_Q_mac`, not the project's precomputed pads), the base64 and the header
/// parsing are this file's own. The project's documented leniencies are the oracle's too: the last `=` of a
/// signature may be left out and either base64 alphabet is read; the unused low bits must be zero.
struct WebhookOracle {
    /// Environment and HMAC key, tried in order.
    let secrets: [(String, [UInt8])]
    static let tolerance: Int64 = 300

    /// What a correct verifier answers for these header values (nil: the header is absent).
    func verdict(id: String?, timestamp: String?, signatures: String?, body: [UInt8], now: Int64)
        -> Result<VerifiedWebhook, WebhookVerificationError>
    {
        let id = id.map(Self.trimmed)
        let timestamp = timestamp.map(Self.trimmed)
        let signatures = signatures.map(Self.trimmed)
        var missing: [String] = []
        if id?.isEmpty ?? true { missing.append("svix-id") }
        if timestamp?.isEmpty ?? true { missing.append("svix-timestamp") }
        if signatures?.isEmpty ?? true { missing.append("svix-signature") }
        guard missing.isEmpty, let id, let timestamp, let signatures else { return .failure(.missingHeaders(missing)) }
        guard timestamp.count <= 18, timestamp.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return .failure(.invalidTimestamp) }
        let seconds = timestamp.reduce(Int64(0)) { $0 * 10 + Int64($1 - 0x30) }
        if seconds < now - Self.tolerance { return .failure(.timestampTooOld) }
        if seconds > now + Self.tolerance { return .failure(.timestampTooNew) }
        let entries = signatures.split(separator: 0x20).map(Array.init)
        for (environment, key) in secrets {
            let mac = Self.hmacSHA256(key: key, message: id + [0x2E] + timestamp + [0x2E] + body)
            for entry in entries where entry.starts(with: Array("v1,".utf8)) {
                if Self.decodeSignature(Array(entry.dropFirst(3))) == mac {
                    return .success(VerifiedWebhook(environment: environment, messageId: String(decoding: id, as: UTF8.self), timestamp: seconds))
                }
            }
        }
        return .failure(.noMatchingSignature)
    }

    /// `signatures` with a `v1,` signature of the oracle's own put in, as `control` says (see the target).
    func placeSignature(control: UInt8, id: String, timestamp: String, body: [UInt8], into signatures: String) -> String {
        let key = secrets[Int(control >> 4 & 1) % secrets.count].1
        let mac = Self.hmacSHA256(key: key, message: Self.trimmed(id) + [0x2E] + Self.trimmed(timestamp) + [0x2E] + body)
        var encoded = Self.base64Encode(mac)
        if control & 0x80 != 0 {
            let at = Int(control) % 43
            encoded[at] = encoded[at] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        }
        let entry = "v1," + String(decoding: encoded, as: UTF8.self)
        switch control >> 5 & 3 {
        case 0: return signatures + " " + entry
        case 1: return entry + " " + signatures
        case 2: return entry
        default: return signatures + " " + String(entry.dropLast())
        }
    }

    /// Spaces and tabs off both ends.
    static func trimmed(_ text: String) -> [UInt8] {
        let bytes = Array(text.utf8)
        guard let first = bytes.firstIndex(where: { $0 != 0x20 && $0 != 0x09 }),
            let last = bytes.lastIndex(where: { $0 != 0x20 && $0 != 0x09 })
        else { return [] }
        return Array(bytes[first...last])
    }

    static func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var length = 0
        let made = key.withUnsafeBytes { k in
            message.withUnsafeBufferPointer { m in
                EVP_Q_mac(nil, "HMAC", nil, "SHA256", nil, k.baseAddress, k.count, m.baseAddress, m.count, &out, 32, &length)
            }
        }
        guard made != nil, length == 32 else { fatalError("OpenSSL's HMAC failed") }
        return out
    }

    static let standard = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func value(_ c: UInt8) -> Int? {
        if let i = standard.firstIndex(of: c) { return i }
        if c == UInt8(ascii: "-") { return 62 }
        if c == UInt8(ascii: "_") { return 63 }
        return nil
    }

    /// Standard base64 with padding.
    static func base64Encode(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        for start in stride(from: 0, to: bytes.count, by: 3) {
            let group = Array(bytes[start..<min(start + 3, bytes.count)]) + [0, 0]
            let v = Int(group[0]) << 16 | Int(group[1]) << 8 | Int(group[2])
            let kept = bytes.count - start >= 3 ? 4 : bytes.count - start + 1
            for j in 0..<4 { out.append(j < kept ? standard[v >> (18 - 6 * j) & 0x3F] : UInt8(ascii: "=")) }
        }
        return out
    }

    /// A secret's key: base64, padding optional.
    static func base64Decode(_ text: [UInt8]) -> [UInt8]? {
        var bits: [Int] = []
        for c in text where c != UInt8(ascii: "=") {
            guard let v = value(c) else { return nil }
            bits += (0..<6).map { v >> (5 - $0) & 1 }
        }
        return stride(from: 0, to: bits.count - bits.count % 8, by: 8).map { i in
            UInt8(bits[i..<(i + 8)].reduce(0) { $0 << 1 | $1 })
        }
    }

    /// A signature's 32 bytes: 43 characters, or 44 ending in one `=`, the 2 unused bits zero.
    static func decodeSignature(_ text: [UInt8]) -> [UInt8]? {
        var text = text
        if text.count == 44, text.last == UInt8(ascii: "=") { text.removeLast() }
        guard text.count == 43, let bytes = base64Decode(text), let last = text.last.flatMap(value), last & 3 == 0 else { return nil }
        return bytes
    }
}
