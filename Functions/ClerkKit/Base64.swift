/// Base64 (standard and URL-safe alphabets) without Foundation: webhook signatures and JWTs decode it on
/// every request.
public enum Base64 {
    private static let standard = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let urlSafe = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    /// Encodes `bytes`; padded unless `url` (JWT style: URL alphabet, no padding).
    public static func encode<C: Collection>(_ bytes: C, url: Bool = false) -> String where C.Element == UInt8 {
        let alphabet = url ? urlSafe : standard
        var out = [UInt8]()
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var it = bytes.makeIterator()
        while let a = it.next() {
            let b = it.next()
            let c = it.next()
            out.append(alphabet[Int(a >> 2)])
            out.append(alphabet[Int((a & 0x03) << 4 | (b ?? 0) >> 4)])
            if let b {
                out.append(alphabet[Int((b & 0x0F) << 2 | (c ?? 0) >> 6)])
            } else if !url {
                out.append(UInt8(ascii: "="))
            }
            if let c {
                out.append(alphabet[Int(c & 0x3F)])
            } else if !url {
                out.append(UInt8(ascii: "="))
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes either alphabet, with or without padding; nil for anything else (stray characters,
    /// impossible lengths, padding in the middle).
    public static func decode<C: Collection>(_ text: C) -> [UInt8]? where C.Element == UInt8 {
        var out = [UInt8]()
        out.reserveCapacity(text.count * 3 / 4)
        var acc: UInt32 = 0
        var bits = 0
        var padding = 0
        for c in text {
            if c == UInt8(ascii: "=") {
                padding += 1
                continue
            }
            if padding > 0 { return nil }
            let v = sextet(c)
            if v == 0xFF { return nil }
            acc = acc << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
            }
        }
        if bits >= 6 || padding > 2 { return nil }
        return out
    }

    /// Decodes base64url exactly as RFC 7515 writes it for JWTs: URL alphabet only, no padding, no
    /// impossible length, and the unused low bits of the last character zero. Any other spelling of the
    /// same bytes is nil, so a token has one accepted form (no variants to slip past a deny list or cache).
    public static func decodeURLCanonical<C: Collection>(_ text: C) -> [UInt8]? where C.Element == UInt8 {
        var out = [UInt8]()
        out.reserveCapacity(text.count * 3 / 4)
        var acc: UInt32 = 0
        var bits = 0
        var last: UInt8 = 0
        for c in text {
            guard c != 0x2B, c != 0x2F else { return nil }  // `+` and `/` belong to the standard alphabet
            let v = sextet(c)
            if v == 0xFF { return nil }
            last = v
            acc = acc << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
            }
        }
        // 6 leftover bits: a length of 4k+1. 2 or 4 leftover bits must be zero in a canonical encoding.
        if bits >= 6 { return nil }
        if bits > 0 && last & UInt8((1 << bits) - 1) != 0 { return nil }
        return out
    }

    /// The 6-bit value of a character of either alphabet, or 0xFF (branches, not a table: no lazy global).
    @inline(__always)
    static func sextet(_ c: UInt8) -> UInt8 {
        switch c {
        case 0x41...0x5A: c &- 0x41
        case 0x61...0x7A: c &- 0x47
        case 0x30...0x39: c &+ 4
        case 0x2B, 0x2D: 62
        case 0x2F, 0x5F: 63
        default: 0xFF
        }
    }

    /// Decodes exactly 32 bytes (43 characters, or 44 with one `=`) into `out`; false for anything else.
    public static func decode32(_ text: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) -> Bool {
        var count = text.count
        if count == 44 {
            guard text[43] == UInt8(ascii: "=") else { return false }
            count = 43
        }
        guard count == 43, out.count >= 32 else { return false }
        var o = 0
        var i = 0
        var bad: UInt8 = 0
        while i + 4 <= 40 {  // 10 full groups -> 30 bytes
            let a = sextet(text[i])
            let b = sextet(text[i + 1])
            let c = sextet(text[i + 2])
            let d = sextet(text[i + 3])
            bad |= (a | b | c | d) & 0xC0
            out[o] = a << 2 | b >> 4
            out[o + 1] = b << 4 | c >> 2
            out[o + 2] = c << 6 | d
            o += 3
            i += 4
        }
        let a = sextet(text[40])
        let b = sextet(text[41])
        let c = sextet(text[42])
        bad |= (a | b | c) & 0xC0
        out[30] = a << 2 | b >> 4
        out[31] = b << 4 | c >> 2
        return bad == 0 && c & 0x03 == 0
    }

    /// Decodes text.
    public static func decode(_ text: String) -> [UInt8]? { decode(Array(text.utf8)) }
}
