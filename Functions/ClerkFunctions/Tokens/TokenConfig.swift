import ClerkKit
import JSON
import LambdaRuntime

/// Session-token settings from the environment, turned into a `TokenVerifier`.
///
/// Two instances (`DEV_CLERK_ISSUER`, `PROD_CLERK_ISSUER`, each with `…_CLERK_JWKS_URL` defaulting to
/// `<issuer>/.well-known/jwks.json`), or one, whose keys come from, in this order: `CLERK_JWT_KEY` (PEM, no
/// network), `CLERK_JWKS_URL`, or `CLERK_SECRET_KEY` (Backend API `GET /v1/jwks` at `CLERK_API_URL`).
public enum TokenConfig {
    /// Builds the verifier; no key source at all is an init error.
    public static func verifier(_ env: Environment, logger: Logger, fetcher: @escaping JWKSFetcher = JWKSCache.curlFetcher)
        throws -> TokenVerifier
    {
        let ttl = try seconds(env, "CLERK_JWKS_CACHE_TTL", default: 300)
        let timeoutMs = try seconds(env, "CLERK_JWKS_TIMEOUT_MS", default: 3000)
        func cache(_ source: KeySource, _ environment: String) -> JWKSCache {
            JWKSCache(
                source: source, fetcher: fetcher, ttlSeconds: ttl, timeoutMs: timeoutMs,
                logger: logger.with("clerkInstance", .string(environment)))
        }
        var instances: [TokenVerifier.Instance] = []
        for instance in [ClerkEnvironment.development, .production] {
            let (prefix, environment) = (instance.variablePrefix, instance.rawValue)
            guard let issuer = env[prefix + "CLERK_ISSUER"] else { continue }
            try requireHTTPS(issuer, prefix + "CLERK_ISSUER")
            let url = env[prefix + "CLERK_JWKS_URL"] ?? TokenVerifier.Instance.normalize(issuer) + "/.well-known/jwks.json"
            try requireAllowedURL(url, prefix + "CLERK_JWKS_URL")
            instances.append(.init(issuer: issuer, environment: environment, keys: cache(.remote(url: url, headers: []), environment)))
        }
        if instances.isEmpty {
            let environment = try Settings(env).clerkEnvironment().rawValue
            let issuer = env["CLERK_ISSUER"]
            if let issuer { try requireHTTPS(issuer, "CLERK_ISSUER") }
            let source: KeySource
            if let pem = env["CLERK_JWT_KEY"] {
                do {
                    source = .pem(try RSAPublicKey(pem: pem.replacingEscapedNewlines()))
                } catch {
                    throw ConfigError.invalid("CLERK_JWT_KEY", why: "not a PEM RSA public key of at least 2048 bits")
                }
            } else if let url = env["CLERK_JWKS_URL"] {
                try requireAllowedURL(url, "CLERK_JWKS_URL")
                source = .remote(url: url, headers: [])
            } else if let secret = env["CLERK_SECRET_KEY"] {
                let api = env["CLERK_API_URL"] ?? "https://api.clerk.com"
                try requireAllowedURL(api, "CLERK_API_URL")
                source = .remote(
                    url: TokenVerifier.Instance.normalize(api) + "/v1/jwks",
                    headers: ["Authorization: Bearer \(secret)", "Clerk-API-Version: 2026-05-12"])
            } else {
                throw ConfigError.missing("CLERK_JWT_KEY", hint: "set CLERK_JWT_KEY, CLERK_JWKS_URL, CLERK_SECRET_KEY, or DEV_/PROD_CLERK_ISSUER")
            }
            instances.append(.init(issuer: issuer, environment: environment, keys: cache(source, environment)))
        }
        let parties = (env["CLERK_AUTHORIZED_PARTIES"] ?? "").split(separator: ",").map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
        return TokenVerifier(
            instances: instances, clockSkewSeconds: Double(try seconds(env, "CLERK_CLOCK_SKEW", default: 5)),
            authorizedParties: parties,
            acceptPendingSessions: env["CLERK_ACCEPT_PENDING_SESSIONS"]?.lowercased() == "true")
    }

    private static func seconds(_ env: Environment, _ name: String, default value: Int) throws -> Int {
        guard let text = env[name] else { return value }
        guard let v = Int(text), v >= 0 else { throw ConfigError.invalid(name, why: "a whole number is expected") }
        return v
    }

    /// Keys fetched over plain http could be swapped by anyone on the path (and the secret key read): the
    /// same rule as the Backend API client, https or a loopback host.
    private static func requireAllowedURL(_ url: String, _ name: String) throws {
        guard URLPolicy.isAllowed(url) else {
            throw ConfigError.invalid(name, why: "an https:// URL is expected (plain http:// only to a loopback host)")
        }
    }

    private static func requireHTTPS(_ issuer: String, _ name: String) throws {
        guard issuer.hasPrefix("https://") else { throw ConfigError.invalid(name, why: "an issuer is an https:// URL") }
    }
}

extension String {
    /// `.env` files often hold PEM keys on one line with `\n` escapes.
    func replacingEscapedNewlines() -> String {
        // A byte scan, not `contains("\\n")`: that one is _StringProcessing's, 1.2 MB of bootstrap with its regex parser.
        let bytes = Array(utf8)
        guard bytes.indices.dropLast().contains(where: { bytes[$0] == 0x5C && bytes[$0 + 1] == 0x6E }) else { return self }
        var out = ""
        var it = makeIterator()
        while let c = it.next() {
            if c == "\\" {
                if let n = it.next() { out.append(n == "n" ? "\n" : n) }
            } else {
                out.append(c)
            }
        }
        return out
    }
}
