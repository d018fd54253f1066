import JSON

extension SessionClaims {
    /// Bounds on what a token's permission claims may make: far beyond any real instance (a token is under
    /// 16 KB anyway), small enough that a flood costs nothing. Exceeding one is an organization problem.
    static let maxFeatures = 4096
    static let maxPermissionNames = 4096
    static let maxMaskDigits = 1000
    static let maxPermissions = 2048

    /// v2's permissions, as Clerk's SDK derives them (`@clerk/shared` `parsePermissions`/`buildOrgPermissions`,
    /// clerk-sdk-python `_compute_org_permissions`): the org-scoped features of `fea` (`o`, `ou`, `uo`), in
    /// order, pair by index with the masks of `o.fpm`; bit i (least significant first) of a feature's mask
    /// grants `per[i]` on it. Masks past the last org feature are ignored, an org feature without a mask gets
    /// nothing, and a set bit past the last name grants nothing (an older `@clerk/shared` granted
    /// `org:<feature>:undefined`). Masks are arbitrary-size integers read exactly, as Python reads them
    /// (`Number.parseInt` rounded past 2^53 in older JavaScript). `fea` `o:dashboard,o:teams`, `per`
    /// `manage,read`, `fpm` `3,2` give `org:dashboard:manage`, `org:dashboard:read`, `org:teams:read`.
    static func permissions(fea: JSONValue?, per: String?, fpm: String?) throws(OrganizationClaimsError) -> [String] {
        // The SDK grants nothing unless both are there.
        guard let per, !per.isEmpty, let fpm, !fpm.isEmpty else { return [] }
        let features: String
        switch fea {
        case nil, .null?: return []
        case .string(let s)?: features = s
        default: throw OrganizationClaimsError(.organization, "fea_not_string")
        }
        let orgFeatures = try orgScopedFeatures(features)
        guard !orgFeatures.isEmpty else { return [] }
        let names = elements(per)
        guard names.count <= maxPermissionNames else { throw OrganizationClaimsError(.organization, "per_too_many") }
        var out: [String] = []
        for (feature, mask) in zip(orgFeatures, elements(fpm)) {
            for bit in try setBits(mask, below: names.count) {
                // The SDK would grant `org:<feature>:` here.
                guard !names[bit].isEmpty else { throw OrganizationClaimsError(.organization, "per_empty_name") }
                guard out.count < maxPermissions else { throw OrganizationClaimsError(.organization, "org_permissions_too_many") }
                out.append("org:" + feature + ":" + names[bit])
            }
        }
        return out
    }

    /// The names of the features whose scope includes `o` (`o`, `ou`, `uo`), in order. An element Clerk's
    /// SDKs would read differently is refused: one without `scope:` (`@clerk/shared` throws), a scope other
    /// than `o`, `u`, `ou`, `uo` (`@clerk/shared` skips it, the Python SDK takes any scope containing `o`),
    /// and an org feature whose name is empty or holds a `:` (the Python SDK skips it).
    static func orgScopedFeatures(_ fea: String) throws(OrganizationClaimsError) -> [String] {
        guard !fea.isEmpty else { return [] }
        let list = elements(fea)
        guard list.count <= maxFeatures else { throw OrganizationClaimsError(.organization, "fea_too_many") }
        var out: [String] = []
        for element in list {
            // Bytes, not characters: a `:` followed by a combining mark is still the separator.
            let bytes = Array(element.utf8)
            guard let colon = bytes.firstIndex(of: 0x3A) else { throw OrganizationClaimsError(.organization, "fea_without_scope") }
            let name = bytes[(colon + 1)...]
            switch String(decoding: bytes[..<colon], as: UTF8.self) {
            case "u": continue
            case "o", "ou", "uo": break
            default: throw OrganizationClaimsError(.organization, "fea_scope_unknown")
            }
            guard !name.isEmpty, !name.contains(0x3A) else { throw OrganizationClaimsError(.organization, "fea_name_invalid") }
            out.append(String(decoding: name, as: UTF8.self))
        }
        return out
    }

    /// The comma-separated elements of `text`, each without what JavaScript's `trim()` strips (the SDK trims
    /// them). Split on the byte, so a combining mark after a comma does not hide it.
    static func elements(_ text: String) -> [String] {
        text.utf8.split(separator: 0x2C, omittingEmptySubsequences: false).map { piece in
            let scalars = String(decoding: piece, as: UTF8.self).unicodeScalars
            guard let first = scalars.firstIndex(where: { !isTrimmed($0) }), let last = scalars.lastIndex(where: { !isTrimmed($0) }) else {
                return ""
            }
            return String(scalars[first...last])
        }
    }

    /// ECMA-262's WhiteSpace and LineTerminator: tab, vertical tab, form feed, the space separators (Zs),
    /// U+FEFF, line feed, carriage return, U+2028, U+2029.
    static func isTrimmed(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x09...0x0D, 0x20, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF: true
        default: false
        }
    }

    /// The set bits below `limit` of a decimal mask of any size, least significant first. ASCII digits only
    /// (no sign: a negative mask is an issuer's overflow, which the Python SDK once read as 63 grants).
    static func setBits(_ text: String, below limit: Int) throws(OrganizationClaimsError) -> [Int] {
        let digits = Array(text.utf8)
        guard !digits.isEmpty, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw OrganizationClaimsError(.organization, "fpm_not_a_number")
        }
        guard digits.count <= maxMaskDigits else { throw OrganizationClaimsError(.organization, "fpm_too_large") }
        // Base 2^32 limbs, least significant first; nine digits at a time, so every product fits 64 bits
        // (limb < 2^32, scale <= 10^9, carry < 2^32).
        var limbs: [UInt32] = []
        var start = 0
        while start < digits.count {
            let end = min(start + 9, digits.count)
            var carry: UInt64 = 0
            var scale: UInt64 = 1
            for d in digits[start..<end] {
                carry = carry * 10 + UInt64(d - 0x30)
                scale *= 10
            }
            for i in limbs.indices {
                let v = UInt64(limbs[i]) * scale + carry
                limbs[i] = UInt32(truncatingIfNeeded: v)
                carry = v >> 32
            }
            if carry != 0 { limbs.append(UInt32(truncatingIfNeeded: carry)) }
            start = end
        }
        var out: [Int] = []
        for bit in 0..<min(limit, limbs.count * 32) where (limbs[bit / 32] >> UInt32(bit % 32)) & 1 == 1 {
            out.append(bit)
        }
        return out
    }
}
