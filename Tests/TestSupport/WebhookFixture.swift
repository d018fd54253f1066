import ClerkFunctions
import ClerkKit
import JSON
import LambdaRuntime
import LocalHosting
import Store
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// Drives the webhook functions through the harness with really signed events, against the real database,
/// and keeps their log lines for inspection.
public final class WebhookFixture {
    /// Secrets configured for each environment.
    public let devSecret = WebhookSigner.newSecret()
    public let prodSecret = WebhookSigner.newSecret()
    /// A second production secret (rotation).
    public let prodSecretNext = WebhookSigner.newSecret()
    /// The harness with those secrets and `DATABASE_URL`.
    public let harness: LocalHarness
    /// A connection for assertions.
    public let db: PostgresConnection
    private let logPath: String

    /// Resets the database and configures both environments (`extra` adds or overrides variables).
    public init(extra: [String: String] = [:]) throws {
        db = try TestDatabase.connect()
        try TestDatabase.reset(db)
        logPath = "/tmp/clerk-functions-test-log-\(getpid())-\(Clock.monotonicNs())"
        let fd = open(logPath, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0o600)
        var env = [
            "DATABASE_URL": TestDatabase.url, "DEV_CLERK_WEBHOOK_SECRET": devSecret,
            "PROD_CLERK_WEBHOOK_SECRET": "\(prodSecret) \(prodSecretNext)"
        ]
        for (k, v) in extra { env[k] = v }
        harness = LocalHarness(
            registry: Functions.registry, environment: Environment(env),
            logger: Logger(level: .debug, format: .json, fd: fd))
    }

    deinit { unlink(logPath) }

    /// Every log line so far.
    public var logs: String { logText(logPath) }

    /// A file from `events/payloads/`.
    public func payload(_ name: String) throws -> [UInt8] { try BuiltProducts.event("payloads/" + name) }

    /// A user event body, with the fields the tests vary.
    public func userBody(
        type: String = "user.updated", id: String = "user_test", updatedAt: Int64, firstName: String = "Ada",
        email: String = "ada@example.com", extraEmailFirst: Bool = true
    ) -> [UInt8] {
        let emails =
            extraEmailFirst
            ? #"[{"id":"idn_other","email_address":"old@example.com"},{"id":"idn_primary","email_address":"\#(email)"}]"#
            : #"[{"id":"idn_primary","email_address":"\#(email)"}]"#
        return Array(
            #"""
            {"data":{"id":"\#(id)","object":"user","username":"ada_l","first_name":"\#(firstName)","last_name":"Lovelace","image_url":"https://img.clerk.com/x","primary_email_address_id":"idn_primary","email_addresses":\#(emails),"created_at":1735732800123,"updated_at":\#(updatedAt),"public_metadata":{}},"instance_id":"ins_test","object":"event","timestamp":\#(updatedAt + 50),"type":"\#(type)"}
            """#.utf8)
    }

    /// A deletion body.
    public func deletedBody(id: String = "user_test") -> [UInt8] {
        Array(#"{"data":{"deleted":true,"id":"\#(id)","object":"user"},"object":"event","timestamp":1738324800789,"type":"user.deleted"}"#.utf8)
    }

    /// An HTTP API v2 event carrying `body`, signed with `secret` (production by default).
    public func signed(_ body: [UInt8], secret: String? = nil, id: String? = nil, timestamp: Int64? = nil) throws -> [UInt8] {
        let signer = WebhookSigner(secret: try WebhookSecret(secret ?? prodSecret))
        return WebhookEventBuilder.httpEvent(
            body: body,
            headers: signer.headers(
                id: id ?? WebhookSigner.newMessageId(), timestamp: timestamp ?? Clock.nowSeconds(), body: body))
    }

    /// Invokes `function`; returns the HTTP status and the parsed JSON body.
    public func invoke(_ function: String, _ event: [UInt8]) throws -> (status: Int, body: JSONValue) {
        let response = try JSONValue.parse(harness.invoke(function, event: event))
        let status = Int(response["statusCode"]?.doubleValue ?? -1)
        let body = try JSONValue.parse(Array((response["body"]?.stringValue ?? "null").utf8))
        return (status, body)
    }

    /// The stored user, as text columns, or nil.
    public func user(_ clerkId: String = "user_test", environment: String = "production") throws -> [String: String]? {
        let rows = try db.query(
            """
            SELECT id::text, email, first_name, last_name, username, image_url, raw_payload::text AS raw,
                   (extract(epoch FROM clerk_updated_at) * 1000)::bigint::text AS updated_ms,
                   (deleted_at IS NOT NULL)::text AS deleted, updated_at::text AS touched
              FROM users WHERE clerk_user_id = $1 AND environment = $2
            """, [clerkId, environment])
        guard let row = rows.first else { return nil }
        var out: [String: String] = [:]
        for c in ["id", "email", "first_name", "last_name", "username", "image_url", "raw", "updated_ms", "deleted", "touched"] {
            if let v = try row.decodeIfPresent(c, as: String.self) { out[c] = v }
        }
        return out
    }

    /// Rows in `table` (one of ours).
    public func count(_ table: String) throws -> Int {
        try db.query("SELECT count(*) AS n FROM \(table)").first!.decode("n", as: Int.self)
    }
}
