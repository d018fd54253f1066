import HTTPClient
import JSON
import Logging

/// Where an instance's keys come from.
public enum KeySource: Sendable {
    /// `CLERK_JWT_KEY`: one PEM key, no network at all (the token's `kid` is not consulted, as in Clerk's SDK).
    case pem(RSAPublicKey)
    /// A JWKS document over HTTPS: the instance's `/.well-known/jwks.json`, or the Backend API's `/v1/jwks`
    /// with the secret key as bearer (in `headers`).
    case remote(url: String, headers: [String])
}

/// Fetches a JWKS document; the default uses libcurl with TLS verification on.
public typealias JWKSFetcher = @Sendable (_ url: String, _ headers: [String], _ timeoutMs: Int) throws -> [UInt8]

/// A JWKS fetch that failed (never carries the secret header).
public struct JWKSFetchError: Error, CustomStringConvertible {
    /// What went wrong.
    public let description: String
    /// Creates the error.
    public init(_ description: String) { self.description = description }
}

/// One Clerk instance's keys, kept in memory across warm invocations.
///
/// Refreshed after `ttlMs`. A failed refresh keeps serving the last good keys until they are twice the TTL
/// old, and is remembered: no fetch at all for `failureBackoffMs` after one failed (at least 30 s), so an
/// endpoint that fails or hangs costs one fetch per backoff, not one per token check. A `kid` the cache
/// does not know triggers at most one refetch per `unknownKidIntervalMs`, so key rotation is picked up at
/// once while a flood of made-up kids cannot hammer the JWKS endpoint. A token without `kid` is refused
/// before any fetch (Clerk's SDK fails that lookup too); only a single `CLERK_JWT_KEY` does without one.
public final class JWKSCache: @unchecked Sendable {
    private let source: KeySource
    private let fetcher: JWKSFetcher
    private let ttlMs: Int64
    private let unknownKidIntervalMs: Int64
    private let timeoutMs: Int
    private let logger: Logger
    private var keys: [String: JSONWebKey] = [:]
    private var fetchedAtMs: Int64 = 0
    private var lastUnknownKidFetchMs: Int64 = .min / 2
    private let failureBackoffMs: Int64
    private var lastFailureMs: Int64?
    private var lastFailure = ""
    /// The least backoff after a failed fetch, whatever is configured.
    public static let minimumFailureBackoffSeconds = 30
    /// How many fetches were attempted (tests and logs).
    public private(set) var fetchCount = 0

    /// Creates a cache; nothing is fetched until the first token needs a key.
    public init(
        source: KeySource, fetcher: @escaping JWKSFetcher = JWKSCache.curlFetcher, ttlSeconds: Int = 300,
        unknownKidIntervalSeconds: Int = 30, failureBackoffSeconds: Int = 30, timeoutMs: Int = 3000, logger: Logger
    ) {
        self.source = source
        self.fetcher = fetcher
        // Bounded (a year) so that `* 1000` and `2 * ttl` cannot overflow whatever a variable says.
        func ms(_ seconds: Int) -> Int64 { Int64(min(max(seconds, 0), 31_536_000)) * 1000 }
        ttlMs = ms(ttlSeconds)
        unknownKidIntervalMs = ms(unknownKidIntervalSeconds)
        failureBackoffMs = ms(max(failureBackoffSeconds, Self.minimumFailureBackoffSeconds))
        self.timeoutMs = timeoutMs
        self.logger = logger
    }

    /// The key for `kid` (and the algorithm it declares, if any).
    public func key(for kid: String?, nowMs: Int64) throws(TokenError) -> (key: RSAPublicKey, algorithm: String?) {
        guard case .remote(let url, let headers) = source else {
            if case .pem(let key) = source { return (key, nil) }
            throw .keysUnavailable("no key source")
        }
        guard let kid else { throw .kidMissing }
        if keys.isEmpty || nowMs - fetchedAtMs >= ttlMs {
            do {
                try refresh(url, headers, nowMs)
            } catch {
                // Stale-if-error: keep serving keys younger than twice the TTL.
                if keys.isEmpty || nowMs - fetchedAtMs >= 2 * ttlMs {
                    keys = [:]
                    throw .keysUnavailable(error.description)
                }
                logger.warning(
                    "JWKS refresh failed; serving cached keys",
                    metadata: [
                        "reason": "jwks_unavailable", "detail": .string(error.description),
                        "ageMs": "\(nowMs - fetchedAtMs)"
                    ])
            }
        }
        if let found = keys[kid] { return (found.key, found.algorithm) }
        guard nowMs - lastUnknownKidFetchMs >= unknownKidIntervalMs else { throw .unknownKeyId }
        lastUnknownKidFetchMs = nowMs
        do {
            try refresh(url, headers, nowMs)
        } catch {
            logger.warning("JWKS refetch for an unknown kid failed", metadata: ["reason": "jwks_unavailable", "detail": .string(error.description)])
            throw .unknownKeyId
        }
        guard let found = keys[kid] else { throw .unknownKeyId }
        return (found.key, found.algorithm)
    }

    /// Fetches and replaces the keys, unless a fetch failed less than the backoff ago (then fails at once,
    /// with that failure); a failure is remembered whatever it was (transport, status, document).
    private func refresh(_ url: String, _ headers: [String], _ nowMs: Int64) throws(JWKSFetchError) {
        if let failedAt = lastFailureMs, nowMs - failedAt < failureBackoffMs, nowMs >= failedAt {
            throw JWKSFetchError("backing off after a failed fetch \((nowMs - failedAt) / 1000) s ago: \(lastFailure)")
        }
        do {
            try fetch(url, headers, nowMs)
            lastFailureMs = nil
        } catch {
            lastFailureMs = nowMs
            lastFailure = error.description
            throw error
        }
    }

    private func fetch(_ url: String, _ headers: [String], _ nowMs: Int64) throws(JWKSFetchError) {
        fetchCount += 1
        let body: [UInt8]
        do {
            body = try fetcher(url, headers, timeoutMs)
        } catch let error as JWKSFetchError {
            throw error
        } catch {
            throw JWKSFetchError("\(error)")
        }
        var skipped: [JSONWebKeySet.Skipped] = []
        let parsed: Result<[String: JSONWebKey], JSONWebKeySet.ParseError>
        do { parsed = .success(try JSONWebKeySet.parse(body, skipped: &skipped)) } catch { parsed = .failure(error) }
        for s in skipped {
            logger.warning("JWKS key refused", metadata: ["reason": .string(s.reason), "kid": .string(s.keyId ?? "")])
        }
        switch parsed {
        case .success(let found): keys = found
        case .failure(.notJSON): throw JWKSFetchError("JWKS response is not a key set")
        case .failure(.noUsableKeys):
            throw JWKSFetchError(
                "JWKS has no usable RSA keys" + (skipped.isEmpty ? "" : " (\(Set(skipped.map(\.reason)).sorted().joined(separator: ", ")))"))
        }
        fetchedAtMs = nowMs
        logger.info("JWKS refreshed", metadata: ["keys": "\(keys.count)"])
    }

    /// Fetches with libcurl: TLS verified, connect and total timeouts, a 256 KiB cap on the answer.
    public static let curlFetcher: JWKSFetcher = { url, headers, timeoutMs in
        let client = try HTTPClient()
        let r = try client.send(
            method: "GET", url: url, headers: ["Accept: application/json"] + headers,
            timeoutMs: timeoutMs, connectTimeoutMs: min(timeoutMs, 2000), maxResponseBytes: 256 << 10)
        guard (200..<300).contains(r.status) else { throw JWKSFetchError("JWKS endpoint answered HTTP \(r.status)") }
        return r.body
    }
}
