import HTTPClient
import JSON

#if canImport(Glibc)
    import Glibc
#endif

/// Clerk's Backend API (`https://api.clerk.com/v1`) over the project's libcurl client.
///
/// Every call carries `Authorization: Bearer <secret key>` and the `Clerk-API-Version` header Clerk's SDK
/// sends; its timeout is what is left of the caller's deadline. A `429` waits out `Retry-After` when that
/// fits before the deadline (unless the caller would rather stop calling, `waitsOutRateLimit`), a `5xx` or
/// transport failure is retried with jittered backoff from 125 ms (as the SDK does), and every failure comes
/// back as a `ClerkAPIError` (a refused request with Clerk's `errors[0].code`). The secret never reaches an
/// error or a log line. One instance per warm container: not thread-safe (one easy handle).
public final class ClerkBackendAPI {
    /// The API version header value Clerk's SDK sends at the snapshot this project follows.
    public static let apiVersion = "2026-05-12"
    /// `https://api.clerk.com`, or `CLERK_API_URL`.
    public let baseURL: String
    private let headers: [String]
    private let client: HTTPClient
    private let decoder = JSONCoding.decoder
    /// At most this many tries of one call.
    public var maxAttempts = 5
    /// One request never waits longer than this, whatever the deadline.
    public var requestTimeoutMs = 10_000

    /// Prepares a client; `baseURL` must be `https://` (plain `http://` only for a loopback host).
    public init(baseURL: String = "https://api.clerk.com", secretKey: String) throws {
        guard URLPolicy.isAllowed(baseURL) else { throw ClerkAPIError.rejected(status: 0) }
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        headers = [
            "Authorization: Bearer " + secretKey, "Clerk-API-Version: " + Self.apiVersion,
            "Accept: application/json", "User-Agent: clerk-functions"
        ]
        do {
            client = try HTTPClient()
        } catch {
            throw ClerkAPIError.unavailable(error.description)
        }
    }

    /// `GET /v1/users/{id}`.
    public func user(id: String, deadlineMs: Int64) throws(ClerkAPIError) -> ClerkUser {
        guard Self.isSafeId(id) else { throw .notFound }
        return try decode(ClerkUser.self, try send("GET", "/v1/users/" + id, body: nil, deadlineMs: deadlineMs))
    }

    /// `GET /v1/users/{id}` with the user's JSON as Clerk sent it.
    public func userWithJSON(id: String, deadlineMs: Int64) throws(ClerkAPIError) -> (user: ClerkUser, json: String) {
        guard Self.isSafeId(id) else { throw .notFound }
        let body = try send("GET", "/v1/users/" + id, body: nil, deadlineMs: deadlineMs)
        return (try decode(ClerkUser.self, body), try decode(JSONValue.self, body).serialized())
    }

    /// `GET /v1/users?limit&offset&order_by=created_at`: a bare array, oldest first (stable paging).
    public func users(limit: Int, offset: Int, deadlineMs: Int64) throws(ClerkAPIError) -> [ClerkUser] {
        try decode(
            [ClerkUser].self,
            try send(
                "GET", "/v1/users?limit=\(limit)&offset=\(offset)&order_by=%2Bcreated_at",
                body: nil, deadlineMs: deadlineMs))
    }

    /// The same page item by item, each with its JSON as Clerk sent it (what the store keeps as `raw_payload`);
    /// a user that is not the documented shape is refused alone (`ClerkListPage`).
    public func usersWithJSON(limit: Int, offset: Int, deadlineMs: Int64) throws(ClerkAPIError) -> [ClerkListItem<ClerkUser>] {
        let body = try send("GET", "/v1/users?limit=\(limit)&offset=\(offset)&order_by=%2Bcreated_at", body: nil, deadlineMs: deadlineMs)
        return try ClerkListPage.items(ClerkUser.self, ofArray: body)
    }

    /// One page of a `{data, total_count}` list.
    public struct Page<Item: Decodable & Sendable>: Decodable, Sendable {
        /// The items.
        public let data: [Item]
        /// How many there are in all.
        public let totalCount: Int

        enum CodingKeys: String, CodingKey {
            case data
            case totalCount = "total_count"
        }
    }

    /// `GET /v1/organizations?limit&offset`.
    public func organizations(limit: Int, offset: Int, deadlineMs: Int64) throws(ClerkAPIError) -> Page<ClerkOrganization> {
        try decode(
            Page<ClerkOrganization>.self,
            try send(
                "GET", "/v1/organizations?limit=\(limit)&offset=\(offset)&order_by=%2Bcreated_at",
                body: nil, deadlineMs: deadlineMs))
    }

    /// The same page item by item, each with its JSON as Clerk sent it (what the store keeps as `raw_payload`).
    public func organizationsWithJSON(limit: Int, offset: Int, deadlineMs: Int64) throws(ClerkAPIError) -> [ClerkListItem<ClerkOrganization>] {
        let body = try send("GET", "/v1/organizations?limit=\(limit)&offset=\(offset)&order_by=%2Bcreated_at", body: nil, deadlineMs: deadlineMs)
        return try ClerkListPage.items(ClerkOrganization.self, ofDataIn: body)
    }

    /// `GET /v1/organizations/{id}/memberships?limit&offset`.
    public func memberships(organizationId: String, limit: Int, offset: Int, deadlineMs: Int64) throws(ClerkAPIError)
        -> Page<ClerkMembership>
    {
        guard Self.isSafeId(organizationId) else { throw .notFound }
        return try decode(
            Page<ClerkMembership>.self,
            try send(
                "GET", "/v1/organizations/\(organizationId)/memberships?limit=\(limit)&offset=\(offset)", body: nil, deadlineMs: deadlineMs))
    }

    /// `GET /v1/organizations/{id}/memberships?limit&offset&order_by=+created_at` item by item, oldest first (a
    /// stable order to page by), each with its JSON as Clerk sent it.
    public func membershipsWithJSON(organizationId: String, limit: Int, offset: Int, deadlineMs: Int64) throws(ClerkAPIError)
        -> [ClerkListItem<ClerkMembership>]
    {
        guard Self.isSafeId(organizationId) else { throw .notFound }
        let body = try send(
            "GET", "/v1/organizations/\(organizationId)/memberships?limit=\(limit)&offset=\(offset)&order_by=%2Bcreated_at",
            body: nil, deadlineMs: deadlineMs)
        return try ClerkListPage.items(ClerkMembership.self, ofDataIn: body)
    }

    /// `POST path` with a JSON body; returns the answer's body (machine-token verification uses it). With
    /// `waitsOutRateLimit` false a 429 is thrown at once (`rateLimited`), for a caller that stops calling
    /// for the `Retry-After` rather than holding its request.
    public func post(_ path: String, json: [UInt8], deadlineMs: Int64, waitsOutRateLimit: Bool = true) throws(ClerkAPIError) -> [UInt8] {
        try send("POST", path, body: json, deadlineMs: deadlineMs, waitsOutRateLimit: waitsOutRateLimit)
    }

    /// Ids go into paths: only Clerk's id alphabet (letters, digits, `_`) may.
    static func isSafeId(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 128
            && id.utf8.allSatisfy { c in
                (c >= 0x30 && c <= 0x39) || (c | 0x20 >= 0x61 && c | 0x20 <= 0x7A) || c == UInt8(ascii: "_")
            }
    }

    private func decode<T: Decodable>(_ type: T.Type, _ body: [UInt8]) throws(ClerkAPIError) -> T {
        do {
            return try decoder.decode(T.self, from: body)
        } catch {
            throw .malformedResponse(DecodingErrorText.describe(error))
        }
    }

    /// One call with Clerk's retry rules, all within `deadlineMs`.
    func send(
        _ method: String, _ path: String, body: [UInt8]?, deadlineMs: Int64,
        waitsOutRateLimit: Bool = true
    ) throws(ClerkAPIError) -> [UInt8] {
        var attempt = 0
        var backoffMs = 125
        var last = ClerkAPIError.unavailable("no attempt fitted before the deadline")
        var requestHeaders = headers
        if body != nil { requestHeaders.append("Content-Type: application/json") }
        while attempt < maxAttempts {
            attempt += 1
            let left = deadlineMs - Self.nowMs() - 50
            guard left > 100 else { break }
            let response: HTTPResponse
            do {
                response = try client.send(
                    method: method, url: baseURL + path, headers: requestHeaders, body: body,
                    timeoutMs: Int(min(left, Int64(requestTimeoutMs))),
                    connectTimeoutMs: Int(min(left, 3000)), maxResponseBytes: 16 << 20)
            } catch {
                last = .unavailable(error.description)
                if !sleepWithin(deadlineMs, ms: jittered(backoffMs)) { break }
                backoffMs *= 2
                continue
            }
            switch response.status {
            case 200..<300:
                return response.body
            case 404:
                throw .notFound
            case 401, 403:
                throw .unauthorized(status: response.status)
            case 429:
                let wait = Self.retryAfterSeconds(response.header("retry-after"))
                last = .rateLimited(retryAfterSeconds: wait)
                guard waitsOutRateLimit, sleepWithin(deadlineMs, ms: max(wait * 1000, jittered(backoffMs))) else { throw last }
                backoffMs *= 2
            case 500..<600:
                last = .unavailable("HTTP \(response.status)")
                if !sleepWithin(deadlineMs, ms: jittered(backoffMs)) { throw last }
                backoffMs *= 2
            default:
                throw .rejected(status: response.status, code: Self.errorCode(response.body))
            }
        }
        throw last
    }

    /// Clerk's `errors[0].code` from an error body (`{"errors":[{"code":…,"message":…}]}`), when it is a plain
    /// code (letters, digits, `_`, `.`, `-`, at most 64): what a log line may carry of Clerk's answer.
    static func errorCode(_ body: [UInt8]) -> String? {
        guard body.count <= 65_536, let json = try? JSONValue.parseStrict(body), case .array(let errors)? = json["errors"],
            let code = errors.first?["code"]?.stringValue
        else { return nil }
        let plain = code.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c | 0x20 >= 0x61 && c | 0x20 <= 0x7A) || c == 0x5F || c == 0x2E || c == 0x2D
        }
        return plain && !code.isEmpty && code.utf8.count <= 64 ? code : nil
    }

    /// `Retry-After` in seconds (a bounded decimal; an HTTP date or garbage counts as one second).
    static func retryAfterSeconds(_ text: String?) -> Int {
        guard let text, !text.isEmpty, text.utf8.count <= 6, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            let n = Int(text)
        else { return 1 }
        return n
    }

    private func jittered(_ ms: Int) -> Int { ms + Int.random(in: 0...max(1, ms / 2)) }

    /// Sleeps `ms` when that still leaves time for a request before the deadline; returns whether it did.
    private func sleepWithin(_ deadlineMs: Int64, ms: Int) -> Bool {
        guard Self.nowMs() + Int64(ms) + 200 < deadlineMs else { return false }
        usleep(UInt32(min(ms, 60_000)) * 1000)
        return true
    }

    static func nowMs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}
