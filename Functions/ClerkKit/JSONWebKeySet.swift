import FoundationEssentials

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

    /// The usable RSA signature keys of `bytes`, by `kid`.
    public static func parse(_ bytes: [UInt8]) throws(ParseError) -> [String: JSONWebKey] {
        guard let doc = try? JSONDecoder().decode(Document.self, from: Data(bytes)) else { throw .notJSON }
        var result: [String: JSONWebKey] = [:]
        for k in doc.keys {
            guard k.kty == "RSA", k.use == nil || k.use == "sig", let kid = k.kid, let n = k.n, let e = k.e,
                  k.alg == nil || TokenAlgorithm(rawValue: k.alg!) != nil,
                  let key = try? RSAPublicKey(n: n, e: e) else { continue }
            result[kid] = JSONWebKey(id: kid, algorithm: k.alg, key: key)
        }
        guard !result.isEmpty else { throw .noUsableKeys }
        return result
    }
}

/// The algorithms Clerk's SDK accepts; everything else (`none`, HS*, ES*, PS*) is refused before any key work.
public enum TokenAlgorithm: String, Sendable {
    case rs256 = "RS256", rs384 = "RS384", rs512 = "RS512"

    /// The SHA-2 size.
    public var shaBits: Int {
        switch self {
        case .rs256: 256
        case .rs384: 384
        case .rs512: 512
        }
    }
}
