import ClerkKit
@_exported import DevTools
import JSON
import LambdaRuntime
import LocalHosting

#if canImport(Glibc)
    import Glibc
#endif

/// Real RS256/384/512 tokens from development keys, and a JWKS endpoint on loopback whose answers the
/// tests control (rotation, garbage, slowness, an outage).
public final class TokenFixture: @unchecked Sendable {
    /// The issuer tokens carry.
    public let issuer: String
    /// The signing key (kid `ins_test_1` unless named).
    public let key: DevelopmentKey
    private let endpoint: ScriptedEndpoint

    /// A fixture with a fresh 2048-bit key, its JWKS served (without `alg`, so any RS algorithm may use it).
    public init(issuer: String = "https://clerk.test.example", keyId: String = "ins_test_1") throws {
        self.issuer = issuer
        key = try DevelopmentKey(keyId: keyId)
        endpoint = try ScriptedEndpoint(body: key.jwks(algorithm: nil))
    }

    /// The JWKS endpoint's server.
    public var server: LoopbackHTTPServer { endpoint.server }
    /// The JWKS URL.
    public var jwksURL: String { server.baseURL + "/.well-known/jwks.json" }
    /// What the endpoint serves.
    public var document: String {
        get { endpoint.body }
        set { endpoint.body = newValue }
    }
    /// The status it answers.
    public var status: Int {
        get { endpoint.status }
        set { endpoint.status = newValue }
    }
    /// A delay before answering, in ms.
    public var delayMs: UInt32 {
        get { endpoint.delayMs }
        set { endpoint.delayMs = newValue }
    }
    /// Requests served so far.
    public var requests: Int { endpoint.received.count }
    /// The last Authorization header received.
    public var lastAuthorization: String? { endpoint.received.last?.header("authorization") }

    /// A session token for `sub`; `claims` overrides the whole payload, `header` the whole header.
    public func token(
        sub: String = "user_test", algorithm: String = "RS256", ttl: Int64 = 60, now: Int64 = Clock.nowSeconds(),
        issuer: String? = nil, azp: String? = nil, extra: String = "", claims: String? = nil,
        header: String? = nil, signer: DevelopmentKey? = nil
    ) throws -> String {
        let payload =
            claims
            ?? DevelopmentKey.sessionClaims(
                subject: sub, issuer: issuer ?? self.issuer, now: now, ttl: ttl,
                authorizedParty: azp, extra: extra)
        return try (signer ?? key).sign(payloadJSON: payload, algorithm: algorithm, header: header)
    }
}
