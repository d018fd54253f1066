import JSON

/// The registered claims of a machine JWT, read in one pass of the scanner: a claim of the wrong type (a
/// number `sub`, a string `exp`) makes the token malformed; `null` is the same as absent.
struct MachineClaims {
    var sub: String?
    var iss: String?
    var clientId: String?
    var scope: String?
    var exp: Double?
    var nbf: Double?
    var iat: Double?

    /// Reads `payload` (the signed, decoded JSON).
    init(_ payload: [UInt8]) throws(TokenError) {
        var claims = MachineClaims.empty
        do {
            try JSONScanner.scan(payload) { name, value in try claims.take(name, value) }
        } catch {
            throw .malformed("payload is not a claims object")
        }
        self = claims
    }

    private init() {}

    private static var empty: MachineClaims { MachineClaims() }

    /// The claims in `verifyMachine`'s order.
    var fields: (String?, String?, String?, String?, Double?, Double?, Double?) { (sub, iss, clientId, scope, exp, nbf, iat) }

    private mutating func take(_ name: String, _ value: JSONScanner.Value) throws {
        switch name {
        case "sub": sub = try Self.string(value)
        case "iss": iss = try Self.string(value)
        case "client_id": clientId = try Self.string(value)
        case "scope": scope = try Self.string(value)
        case "exp": exp = try Self.number(value)
        case "nbf": nbf = try Self.number(value)
        case "iat": iat = try Self.number(value)
        default: break
        }
    }

    private static func string(_ value: JSONScanner.Value) throws -> String? {
        switch value {
        case .string(let s): return s
        case .null: return nil
        default: throw JSONScanner.Malformed()
        }
    }

    private static func number(_ value: JSONScanner.Value) throws -> Double? {
        switch value {
        case .number(let d): return d
        case .null: return nil
        default: throw JSONScanner.Malformed()
        }
    }
}
