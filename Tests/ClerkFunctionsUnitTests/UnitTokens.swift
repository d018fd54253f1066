import ClerkKit
import DevTools
import LambdaRuntime
import Logging

@testable import ClerkFunctions

/// A signing key made for the run and a verifier of its tokens, from its PEM: no key server, no network.
enum UnitTokens {
    static let issuer = "https://clerk.unit.example"
    /// One 2048-bit key for every test (made once: generation is the slow part).
    static let key: DevelopmentKey = {
        do { return try DevelopmentKey(keyId: "ins_unit_1") } catch { preconditionFailure("no RSA key: \(error)") }
    }()

    /// A verifier of `key`'s session tokens issued by `issuer`, in production.
    static func verifier() throws -> TokenVerifier {
        let keys = JWKSCache(source: .pem(try RSAPublicKey(pem: key.publicPEM)), logger: Logger(label: "unit") { _ in SwiftLogNoOpLogHandler() })
        return TokenVerifier(instances: [.init(issuer: issuer, environment: "production", keys: keys)])
    }

    /// A session token of `subject`, valid for a minute, signed by `signer` (the test key unless told).
    static func session(_ subject: String, ttl: Int64 = 60, extra: String = "", signer: DevelopmentKey? = nil) throws -> String {
        try (signer ?? key).sign(
            payloadJSON: DevelopmentKey.sessionClaims(
                subject: subject, issuer: issuer, now: Clock.nowSeconds(),
                ttl: ttl, extra: extra))
    }

    /// An M2M JWT for `subject`, signed by the test key.
    static func m2m(_ subject: String = "mch_unit") throws -> String {
        try key.sign(
            payloadJSON: DevelopmentKey.machineClaims(subject: subject, issuer: issuer, now: Clock.nowSeconds()),
            header: key.m2mHeader())
    }
}
