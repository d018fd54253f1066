import COpenSSL

/// An HMAC-SHA256 key with its padded hash states computed once (see the C shim for why).
public struct HMACSHA256Key: @unchecked Sendable {
    private var state = clerk_hmac_sha256_key()

    /// Prepares `key`.
    public init(_ key: [UInt8]) {
        key.withUnsafeBufferPointer { clerk_hmac_sha256_key_init(&state, $0.baseAddress, $0.count) }
    }

    /// The MAC of the concatenation of `parts` (at most five), without copying them together.
    public func mac(
        _ p0: UnsafeRawBufferPointer, _ p1: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
        _ p2: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
        _ p3: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
        _ p4: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)
    ) -> SHA256Digest {
        var out = SHA256Digest()
        withUnsafePointer(to: state) { k in
            withUnsafeMutableBytes(of: &out.bytes) { o in
                clerk_hmac_sha256_parts(
                    k, p0.baseAddress, p0.count, p1.baseAddress, p1.count, p2.baseAddress, p2.count,
                    p3.baseAddress, p3.count, p4.baseAddress, p4.count,
                    o.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        return out
    }

    /// The MAC of `message`.
    public func mac(_ message: [UInt8]) -> SHA256Digest { message.withUnsafeBytes { mac($0) } }
}

/// A 32-byte SHA-256 digest held inline (no heap allocation).
public struct SHA256Digest: Sendable, Equatable {
    /// The digest bytes.
    public var bytes: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    /// The digest as an array.
    public var array: [UInt8] { withUnsafeBytes(of: bytes) { Array($0) } }

    /// Lower-case hex.
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for b in array {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Compares with `other` in constant time.
    public func constantTimeEquals(_ other: UnsafeRawBufferPointer) -> Bool {
        guard other.count == 32 else { return false }
        return withUnsafeBytes(of: bytes) { CRYPTO_memcmp($0.baseAddress, other.baseAddress, 32) == 0 }
    }

    public static func == (a: SHA256Digest, b: SHA256Digest) -> Bool { a.array == b.array }
}

/// One-shot hashing and randomness from OpenSSL.
public enum Crypto {
    /// SHA-256 of `data`.
    public static func sha256(_ data: [UInt8]) -> SHA256Digest {
        var out = SHA256Digest()
        data.withUnsafeBytes { d in
            withUnsafeMutableBytes(of: &out.bytes) { clerk_sha256(d.baseAddress, d.count, $0.baseAddress!.assumingMemoryBound(to: UInt8.self)) }
        }
        return out
    }

    /// `count` bytes from OpenSSL's CSPRNG.
    public static func randomBytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        let ok = out.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
        precondition(ok == 1, "the CSPRNG failed")
        return out
    }
}
