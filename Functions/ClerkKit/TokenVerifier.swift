import HTTPClient
import JSON
import Logging

/// A verified session: the claims, which instance (environment) issued them, and the raw payload.
public struct VerifiedSession: Sendable {
    /// The checked claims.
    public let claims: SessionClaims
    /// The environment of the instance whose keys verified the token.
    public let environment: String
    /// The payload JSON, for callers that pass every claim on.
    public let payload: [UInt8]
}

/// Verifies Clerk session tokens the way Clerk's backend SDK does, and stricter where that is safe:
/// an allowed RS algorithm, the signature before any claim (so claim errors cannot be probed with unsigned
/// tokens), then `sub`, `azp`, `exp`/`nbf`/`iat` with leeway, `iss` against the configured instances, and
/// pending sessions.
public final class TokenVerifier: @unchecked Sendable {
    /// One Clerk instance: its issuer (when pinned), the environment it stands for, and its keys.
    public struct Instance: Sendable {
        /// `https://…` Frontend API URL; nil accepts any https issuer (single-instance setups).
        public let issuer: String?
        /// `development` or `production`.
        public let environment: String
        /// The instance's key cache.
        public let keys: JWKSCache

        /// Describes an instance.
        public init(issuer: String?, environment: String, keys: JWKSCache) {
            self.issuer = issuer.map(Self.normalize)
            self.environment = environment
            self.keys = keys
        }

        /// The issuer without a trailing slash.
        public static func normalize(_ issuer: String) -> String { issuer.hasSuffix("/") ? String(issuer.dropLast()) : issuer }
    }

    /// The instances, tried by issuer.
    public let instances: [Instance]
    /// Leeway for `exp`, `nbf` and `iat`, in seconds (Clerk: 5).
    public let clockSkewSeconds: Double
    /// Allowed `azp` origins; empty skips the check.
    public let authorizedParties: Set<String>
    /// Whether `sts: pending` sessions pass.
    public let acceptPendingSessions: Bool

    /// The category tag of machine-to-machine tokens, which are never session tokens.
    static let machineTokenCategory = "cl_B7d4PD333AAA"

    /// Creates a verifier over at least one instance.
    public init(
        instances: [Instance], clockSkewSeconds: Double = 5, authorizedParties: [String] = [],
        acceptPendingSessions: Bool = false
    ) {
        precondition(!instances.isEmpty)
        self.instances = instances
        self.clockSkewSeconds = clockSkewSeconds
        self.authorizedParties = Set(authorizedParties)
        self.acceptPendingSessions = acceptPendingSessions
    }

    /// Verifies `token` at `nowMs` (epoch ms).
    public func verify(_ token: String, nowMs: Int64) throws(TokenError) -> VerifiedSession {
        try verify(ParsedToken.parse(token), nowMs: nowMs)
    }

    /// Verifies a token already split and decoded (`ParsedToken.parse`) at `nowMs` (epoch ms).
    public func verify(_ parsed: ParsedToken, nowMs: Int64) throws(TokenError) -> VerifiedSession {
        guard let algorithm = TokenAlgorithm(rawValue: parsed.algorithm) else { throw .algorithmNotAllowed }
        if let typ = parsed.type, typ != "JWT" { throw .malformed("typ is not JWT") }
        if parsed.category == Self.machineTokenCategory { throw .malformed("a machine token, not a session token") }

        let instance = try signedBy(parsed, algorithm: algorithm, nowMs: nowMs)

        let claims = try SessionClaims(payload: parsed.payload)
        guard let sub = claims.subject, !sub.isEmpty else { throw .malformed("sub is missing") }
        if !authorizedParties.isEmpty {
            guard let azp = claims.authorizedParty, authorizedParties.contains(azp) else { throw .authorizedPartyNotAllowed }
        }
        let now = Double(nowMs) / 1000
        guard let exp = claims.expiresAt else { throw .malformed("exp is missing") }
        if exp <= now - clockSkewSeconds { throw .expired }
        if let nbf = claims.notBefore, nbf > now + clockSkewSeconds { throw .notYetValid }
        if let iat = claims.issuedAt, iat > now + clockSkewSeconds { throw .issuedInTheFuture }
        guard let iss = claims.issuer, iss.hasPrefix("https://") else { throw .issuerMismatch }
        if claims.sessionStatus == "pending" && !acceptPendingSessions { throw .sessionPending }
        return VerifiedSession(claims: claims, environment: instance.environment, payload: parsed.payload)
    }
}

extension TokenVerifier {
    /// The instance whose key signed `parsed`, or the reason it is refused: the issuer only chooses whose keys
    /// to try (it is the one claim read before the signature), the key must agree with the algorithm, then
    /// the signature vouches for everything. Session and machine JWTs both go through here.
    func signedBy(_ parsed: ParsedToken, algorithm: TokenAlgorithm, nowMs: Int64) throws(TokenError) -> Instance {
        let instance: Instance
        if instances.contains(where: { $0.issuer != nil }) {
            guard let iss = parsed.issuer.map(Instance.normalize),
                let match = instances.first(where: { $0.issuer == iss })
            else { throw .issuerMismatch }
            instance = match
        } else {
            instance = instances[0]
        }
        let (key, declared) = try instance.keys.key(for: parsed.keyId, nowMs: nowMs)
        if let declared, declared != parsed.algorithm { throw .algorithmNotAllowed }
        let valid = parsed.signingInput.withUnsafeBytes {
            key.verify(shaBits: algorithm.shaBits, input: $0, signature: parsed.signature)
        }
        guard valid else { throw .invalidSignature }
        return instance
    }
}
