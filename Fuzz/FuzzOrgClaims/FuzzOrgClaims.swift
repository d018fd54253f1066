import ClerkKit
import FuzzSupport
import JSON

#if canImport(Glibc)
    import Glibc
#endif

/// libFuzzer entry: differential test of v2 organization permissions. The input is `fea`, `per` and `fpm`
/// separated by 0xFF bytes (a byte UTF-8 never uses); they go into a v2 payload for
/// `SessionClaims.organization(payload:)`, and the answer is compared with `reference` below, written
/// from Clerk's algorithm (`@clerk/shared` `splitByScope`, `parsePermissions`, `buildOrgPermissions`;
/// masks of any size, read by halving the decimal text as `decimalToBinaryBits` does) and the README's
/// list of what the project leaves out. Any difference aborts with the three claims printed.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOrgClaims(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data, size > 0 else { return 0 }
    let fields = UnsafeBufferPointer(start: data, count: size).split(separator: 0xFF, maxSplits: 2, omittingEmptySubsequences: false)
        .map { String(decoding: $0, as: UTF8.self) }
    let fea = fields.count > 0 ? fields[0] : ""
    let per = fields.count > 1 ? fields[1] : ""
    let fpm = fields.count > 2 ? fields[2] : ""
    let payload: JSONValue = .object([
        "v": .number(2), "fea": .string(fea),
        "o": .object(["id": .string("org_1"), "per": .string(per), "fpm": .string(fpm)])
    ])
    let got = SessionClaims.organization(payload: Array(payload.serialized().utf8))
    let problem = got.problems.first { $0.part == .organization }
    let expected = Reference.permissions(fea: fea, per: per, fpm: fpm)
    let same: Bool
    switch (expected, problem) {
    case (nil, .some): same = true
    case (let list?, nil): same = list.map { Array($0.unicodeScalars) } == got.permissions.map { Array($0.unicodeScalars) }
    default: same = false
    }
    if !same || !got.problems.allSatisfy({ $0.part == .organization }) {
        let show = { (s: String) in
            s.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 ? String($0) : "\\u{\(String($0.value, radix: 16))}" }.joined()
        }
        print("FuzzOrgClaims: difference\n  fea: \(show(fea))\n  per: \(show(per))\n  fpm: \(show(fpm))")
        print("  reference: \(expected.map { $0.map(show).joined(separator: ",") } ?? "left out")")
        print("  project:   \(problem.map { "left out (\($0.detail))" } ?? got.permissions.map(show).joined(separator: ","))")
        print("  other problems: \(got.problems.filter { $0.part != .organization }.map(\.detail))")
        fflush(nil)
        abort()
    }
    return 0
}

/// Clerk's algorithm, written apart from the project's decoder.
enum Reference {
    /// The permissions Clerk's SDK derives, or nil where the project promises to leave the organization out
    /// (README: a mask not a plain decimal, a `fea` element without a scope or with another scope than `o`,
    /// `u`, `ou`, `uo`, an org feature named `""` or holding `:`, a set bit naming `""`, and the bounds).
    static func permissions(fea: String, per: String, fpm: String) -> [String]? {
        // parsePermissions: nothing without both; splitByScope: nothing without `fea`.
        if per.isEmpty || fpm.isEmpty || fea.isEmpty { return [] }
        let parts = split(fea)
        if parts.count > 4096 { return nil }
        var org: [[Unicode.Scalar]] = []
        for part in parts {
            guard let colon = part.firstIndex(of: ":") else { return nil }  // Clerk throws here
            let scope = String(String.UnicodeScalarView(part[..<colon]))
            let value = Array(part[(colon + 1)...])
            if scope == "u" { continue }
            guard ["o", "ou", "uo"].contains(scope) else { return nil }  // Clerk skips; Python differs
            if value.isEmpty || value.contains(":") { return nil }
            org.append(value)
        }
        if org.isEmpty { return [] }
        let names = split(per)
        if names.count > 4096 { return nil }
        let masks = split(fpm)
        var out: [String] = []
        for (index, feature) in org.enumerated() where index < masks.count {
            let mask = masks[index]
            // decimalToBinaryBits: /^\d+$/ or nothing.
            guard !mask.isEmpty, mask.allSatisfy({ $0.value >= 48 && $0.value <= 57 }) else { return nil }
            if mask.count > 1000 { return nil }
            let bits = binary(mask.map { UInt8($0.value - 48) }, upTo: names.count)
            for (i, bit) in bits.enumerated() where bit == 1 && i < names.count {
                if names[i].isEmpty { return nil }
                var text = "org:"
                text.unicodeScalars.append(contentsOf: feature)
                text += ":"
                text.unicodeScalars.append(contentsOf: names[i])
                out.append(text)
                if out.count > 2048 { return nil }
            }
        }
        return out
    }

    /// `s.split(',').map(x => x.trim())`, on Unicode scalars.
    static func split(_ s: String) -> [[Unicode.Scalar]] {
        var pieces: [[Unicode.Scalar]] = [[]]
        for c in s.unicodeScalars {
            if c == "," { pieces.append([]) } else { pieces[pieces.count - 1].append(c) }
        }
        return pieces.map { piece in
            var p = piece[...]
            while let f = p.first, jsSpace(f) { p = p.dropFirst() }
            while let l = p.last, jsSpace(l) { p = p.dropLast() }
            return Array(p)
        }
    }

    /// String.prototype.trim's set: WhiteSpace (TAB, VT, FF, ZWNBSP, the Zs characters) and LineTerminator
    /// (LF, CR, LS, PS).
    static func jsSpace(_ c: Unicode.Scalar) -> Bool {
        switch c {
        case "\u{09}", "\u{0B}", "\u{0C}", "\u{FEFF}", "\u{0A}", "\u{0D}", "\u{2028}", "\u{2029}": true
        case " ", "\u{A0}", "\u{1680}", "\u{2000}", "\u{2001}", "\u{2002}", "\u{2003}", "\u{2004}", "\u{2005}", "\u{2006}",
            "\u{2007}", "\u{2008}", "\u{2009}", "\u{200A}", "\u{202F}", "\u{205F}", "\u{3000}":
            true
        default: false
        }
    }

    /// The first `count` bits of a decimal, least significant first: halve the digit string, keep remainders.
    static func binary(_ digits: [UInt8], upTo count: Int) -> [UInt8] {
        var number = Array(digits.drop { $0 == 0 })
        var bits: [UInt8] = []
        while !number.isEmpty && bits.count < count {
            var quotient: [UInt8] = []
            var remainder = 0
            for d in number {
                let value = remainder * 10 + Int(d)
                if !quotient.isEmpty || value / 2 != 0 { quotient.append(UInt8(value / 2)) }
                remainder = value % 2
            }
            bits.append(UInt8(remainder))
            number = quotient
        }
        return bits
    }
}

/// The process entry SwiftPM links for a testable executable: libFuzzer's driver with the callback above.
@_cdecl("FuzzOrgClaims_main")
public func fuzzOrgClaimsMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzOrgClaims(data, size) }
}
