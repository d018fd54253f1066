import ClerkKit
import LambdaRuntime
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
    private let lock = ConditionLock()
    private var _document: String
    private var _status = 200
    private var _delayMs: UInt32 = 0
    private var _requests = 0
    private var _lastAuthorization: String?
    /// The JWKS endpoint.
    public private(set) var server: LoopbackHTTPServer!

    /// A fixture with a fresh 2048-bit key, its JWKS served (without `alg`, so any RS algorithm may use it).
    public init(issuer: String = "https://clerk.test.example", keyId: String = "ins_test_1") throws {
        self.issuer = issuer
        key = try DevelopmentKey(keyId: keyId)
        _document = key.jwks(algorithm: nil)
        server = try LoopbackHTTPServer { [weak self] request in
            guard let self else { return nil }
            let (doc, status, delay) = self.lock.withLock { () -> (String, Int, UInt32) in
                self._requests += 1
                self._lastAuthorization = request.header("authorization")
                return (self._document, self._status, self._delayMs)
            }
            if delay > 0 { usleep(delay * 1000) }
            return .json(status, doc)
        }
    }

    /// The JWKS URL.
    public var jwksURL: String { server.baseURL + "/.well-known/jwks.json" }
    /// What the endpoint serves.
    public var document: String {
        get { lock.withLock { _document } }
        set { lock.withLock { _document = newValue } }
    }
    /// The status it answers.
    public var status: Int {
        get { lock.withLock { _status } }
        set { lock.withLock { _status = newValue } }
    }
    /// A delay before answering, in ms.
    public var delayMs: UInt32 {
        get { lock.withLock { _delayMs } }
        set { lock.withLock { _delayMs = newValue } }
    }
    /// Requests served so far.
    public var requests: Int { lock.withLock { _requests } }
    /// The last Authorization header received.
    public var lastAuthorization: String? { lock.withLock { _lastAuthorization } }

    /// A session token for `sub`; `claims` overrides the whole payload, `header` the whole header.
    public func token(sub: String = "user_test", algorithm: String = "RS256", ttl: Int64 = 60, now: Int64 = Clock.nowSeconds(),
                      issuer: String? = nil, azp: String? = nil, extra: String = "", claims: String? = nil,
                      header: String? = nil, signer: DevelopmentKey? = nil) throws -> String {
        let payload = claims ?? DevelopmentKey.sessionClaims(subject: sub, issuer: issuer ?? self.issuer, now: now, ttl: ttl,
                                                              authorizedParty: azp, extra: extra)
        return try (signer ?? key).sign(payloadJSON: payload, algorithm: algorithm, header: header)
    }
}
