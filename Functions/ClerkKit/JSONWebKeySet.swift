import JSON

/// A verification key from a JWKS, with the algorithm it declares (if any).
public struct JSONWebKey: Sendable {
    /// `kid`.
    public let id: String
    /// `alg` (`RS256`…), when the set declares one: a token must then use exactly it.
    public let algorithm: String?
    /// The key.
    public let key: RSAPublicKey
}

/// Parses `{"keys":[…]}` documents; keys that are not RSA signature keys are skipped, not fatal.
public enum JSONWebKeySet {
    /// Why a document is unusable.
    public enum ParseError: Error, Equatable {
        case notJSON
        case noUsableKeys
    }

    private struct Document: Decodable {
        struct Key: Decodable {
            var kty: String?
            var kid: String?
            var alg: String?
            var use: String?
            var n: String?
            var e: String?
        }
        var keys: [Key]
    }

    /// A key of the document that was not taken, and why (`key_weak`, `key_invalid`, `key_unsupported`, `kid_missing`).
    public struct Skipped: Sendable, Equatable {
        /// The key's `kid`, if it had one.
        public let keyId: String?
        /// The reason code.
        public let reason: String
    }

    /// The usable RSA signature keys of `bytes`, by `kid`.
    public static func parse(_ bytes: [UInt8]) throws(ParseError) -> [String: JSONWebKey] {
        var skipped: [Skipped] = []
        return try parse(bytes, skipped: &skipped)
    }

    /// The usable keys, and in `skipped` those refused: not RSA signature keys, an unknown `alg`, no `kid`
    /// (a kid-less key could stand in for any token's), or weak (`e` even or below 3, modulus under 2048 bits).
    public static func parse(_ bytes: [UInt8], skipped: inout [Skipped]) throws(ParseError) -> [String: JSONWebKey] {
        guard let doc = try? JSONCoding.decoder.decode(Document.self, from: bytes) else { throw .notJSON }
        var result: [String: JSONWebKey] = [:]
        for k in doc.keys {
            guard k.kty == "RSA", k.use == nil || k.use == "sig", k.alg.map({ TokenAlgorithm(rawValue: $0) != nil }) ?? true else {
                skipped.append(Skipped(keyId: k.kid, reason: "key_unsupported"))
                continue
            }
            guard let kid = k.kid, !kid.isEmpty else {
                skipped.append(Skipped(keyId: nil, reason: "kid_missing"))
                continue
            }
            guard let n = k.n, let e = k.e else {
                skipped.append(Skipped(keyId: kid, reason: "key_invalid"))
                continue
            }
            do {
                result[kid] = JSONWebKey(id: kid, algorithm: k.alg, key: try RSAPublicKey(n: n, e: e))
            } catch {
                skipped.append(Skipped(keyId: kid, reason: error.reason))
            }
        }
        guard !result.isEmpty else { throw .noUsableKeys }
        return result
    }
}

/// The algorithms Clerk's SDK accepts; everything else (`none`, HS*, ES*, PS*) is refused before any key work.
public enum TokenAlgorithm: String, Sendable {
    case rs256 = "RS256"
    case rs384 = "RS384"
    case rs512 = "RS512"

    /// The SHA-2 size.
    public var shaBits: Int {
        switch self {
        case .rs256: 256
        case .rs384: 384
        case .rs512: 512
        }
    }
}
