/// Why a webhook request was refused, with the HTTP status the endpoint answers.
public enum WebhookVerificationError: Error, Equatable, Sendable {
    /// One or more of the id, timestamp and signature headers is absent or blank.
    case missingHeaders([String])
    /// The timestamp header is not a plain decimal integer.
    case invalidTimestamp
    /// The timestamp is older than the tolerance (a replay or a badly delayed delivery).
    case timestampTooOld
    /// The timestamp is further in the future than the tolerance.
    case timestampTooNew
    /// No `v1` signature matched any configured secret.
    case noMatchingSignature

    /// A stable code for logs and response bodies.
    public var reason: String {
        switch self {
        case .missingHeaders: "missing_headers"
        case .invalidTimestamp: "invalid_timestamp"
        case .timestampTooOld: "timestamp_too_old"
        case .timestampTooNew: "timestamp_too_new"
        case .noMatchingSignature: "signature_mismatch"
        }
    }

    /// 400 for a request that is not a webhook at all, 401 for one that fails authentication.
    public var httpStatus: Int {
        switch self {
        case .missingHeaders, .invalidTimestamp: 400
        case .timestampTooOld, .timestampTooNew, .noMatchingSignature: 401
        }
    }
}

/// What a verified request proved: which environment's secret signed it, and its delivery id.
public struct VerifiedWebhook: Sendable, Equatable {
    /// The environment of the secret that matched (`development`, `production`, ...).
    public let environment: String
    /// `svix-id`: the same across retries of one message, so it is the deduplication key.
    public let messageId: String
    /// `svix-timestamp`, epoch seconds.
    public let timestamp: Int64

    /// Creates the record of a verified request.
    public init(environment: String, messageId: String, timestamp: Int64) {
        self.environment = environment
        self.messageId = messageId
        self.timestamp = timestamp
    }
}

/// Verifies Svix (Standard Webhooks) signatures against every configured secret.
///
/// Per the scheme: HMAC-SHA256 over `id.timestamp.body` of the raw body bytes, base64 `v1,` entries
/// separated by spaces (any may match, other versions ignored), compared in constant time, timestamp
/// within the tolerance both ways. Malformed entries count as "no match", never as a crash.
public struct WebhookVerifier: Sendable {
    /// A secret and the environment it stands for.
    public struct Entry: Sendable {
        /// `development`, `production`, or another name.
        public let environment: String
        /// The secret.
        public let secret: WebhookSecret

        /// Pairs a secret with its environment.
        public init(environment: String, secret: WebhookSecret) {
            self.environment = environment
            self.secret = secret
        }
    }

    /// The secrets, tried in order.
    public let entries: [Entry]
    /// Allowed clock difference in seconds, both ways (default 300, as Svix).
    public let toleranceSeconds: Int64

    /// Creates a verifier; `entries` must not be empty (no secret is a configuration error, not "accept all").
    public init(entries: [Entry], toleranceSeconds: Int64 = 300) {
        precondition(!entries.isEmpty, "a webhook verifier needs at least one secret")
        self.entries = entries
        self.toleranceSeconds = toleranceSeconds
    }

    /// Verifies a request. `header` looks a header up by lower-case name.
    public func verify(header: (String) -> String?, body: [UInt8], now: Int64) throws(WebhookVerificationError)
        -> VerifiedWebhook
    {
        func value(_ svix: String, _ standard: String) -> String? {
            guard let v = header(svix) ?? header(standard) else { return nil }
            let trimmed = v.trimmingSpacesCheaply()
            return trimmed.isEmpty ? nil : trimmed
        }
        let id = value("svix-id", "webhook-id")
        let timestampText = value("svix-timestamp", "webhook-timestamp")
        let signatures = value("svix-signature", "webhook-signature")
        guard let id, let timestampText, let signatures else {
            var missing: [String] = []
            if id == nil { missing.append("svix-id") }
            if timestampText == nil { missing.append("svix-timestamp") }
            if signatures == nil { missing.append("svix-signature") }
            throw .missingHeaders(missing)
        }
        guard let timestamp = Self.parseTimestamp(timestampText) else { throw .invalidTimestamp }
        if timestamp < now - toleranceSeconds { throw .timestampTooOld }
        if timestamp > now + toleranceSeconds { throw .timestampTooNew }

        var idText = id
        var tsText = timestampText
        var signatureText = signatures
        let dot: [UInt8] = [UInt8(ascii: ".")]
        for entry in entries {
            let mac = idText.withUTF8 { idBytes in
                tsText.withUTF8 { tsBytes in
                    dot.withUnsafeBytes { d in
                        body.withUnsafeBytes { b in
                            entry.secret.key.mac(UnsafeRawBufferPointer(idBytes), d, UnsafeRawBufferPointer(tsBytes), d, b)
                        }
                    }
                }
            }
            if signatureText.withUTF8({ Self.anyV1Signature(in: UnsafeRawBufferPointer($0), equals: mac) }) {
                return VerifiedWebhook(environment: entry.environment, messageId: id, timestamp: timestamp)
            }
        }
        throw .noMatchingSignature
    }

    /// Scans the space-separated `version,base64` list in place (no allocation: this runs per request)
    /// and compares each well-formed `v1` entry with `mac` in constant time. Malformed entries are skipped.
    static func anyV1Signature(in header: UnsafeRawBufferPointer, equals mac: SHA256Digest) -> Bool {
        var matched = false
        var i = 0
        let n = header.count
        var decoded: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        while i < n {
            while i < n && header[i] == 0x20 { i += 1 }
            let start = i
            while i < n && header[i] != 0x20 { i += 1 }
            let length = i - start
            // "v1," + 44 characters (43 when the padding was dropped) for 32 bytes.
            guard length == 47 || length == 46, header[start] == UInt8(ascii: "v"), header[start + 1] == UInt8(ascii: "1"),
                header[start + 2] == UInt8(ascii: ",")
            else { continue }
            let ok = withUnsafeMutableBytes(of: &decoded) { out in
                Base64.decode32(UnsafeRawBufferPointer(rebasing: header[(start + 3)..<i]), into: out)
            }
            if ok && withUnsafeBytes(of: decoded, { mac.constantTimeEquals($0) }) { matched = true }
        }
        return matched
    }

    /// A plain decimal integer only (no sign, fraction or trailing text), as the Go and Rust verifiers.
    static func parseTimestamp(_ text: String) -> Int64? {
        var value: Int64 = 0
        var digits = 0
        for c in text.utf8 {
            guard c >= 0x30 && c <= 0x39, digits < 18 else { return nil }
            value = value * 10 + Int64(c - 0x30)
            digits += 1
        }
        return digits > 0 ? value : nil
    }

}

extension String {
    fileprivate func trimmingSpacesCheaply() -> String {
        guard let f = utf8.first, let l = utf8.last, f == 0x20 || l == 0x20 || f == 0x09 || l == 0x09 else { return self }
        return String(
            decoding: utf8.drop(while: { $0 == 0x20 || $0 == 0x09 }).reversed().drop(while: { $0 == 0x20 || $0 == 0x09 }).reversed(), as: UTF8.self)
    }
}
