import ClerkKit
import LambdaRuntime
import Store

/// The executable's commands beyond `invoke` and `list`.
public enum Commands {
    /// All of them.
    public static let all: [Command] = [migrate, signWebhook, TokenTools.devKeys, TokenTools.signToken]

    /// The `invoke` flags that rewrite events.
    public static let transforms: [EventTransform] = [sign, TokenTools.mintTransform]

    /// `invoke --sign`: fresh Svix id, timestamp and signature with the configured secret.
    public static let sign = EventTransform(
        flag: "--sign", summary: "re-sign the event's body with the configured webhook secret (fresh svix-id and timestamp)"
    ) { event, _, env in
        try WebhookEventBuilder.resign(event, signer: WebhookEventBuilder.configuredSigner(env))
    }

    /// `sign-webhook`: prints an HTTP API v2 event carrying a Clerk payload with valid Svix headers.
    public static let signWebhook = Command(
        name: "sign-webhook", usage: "[--secret whsec_…] [--id ID] [--timestamp T] PAYLOAD.json",
        summary: "print an HTTP API v2 event with the payload and fresh Svix headers (secret: --secret or the configured one)"
    ) { args, env in
        var secret: String?, id: String?, timestamp: Int64?, path: String?
        var i = 0
        while i < args.count {
            switch args[i] {
            case "--secret", "--id", "--timestamp":
                guard i + 1 < args.count else { throw UsageError("\(args[i]) needs a value") }
                let v = args[i + 1]
                if args[i] == "--secret" { secret = v } else if args[i] == "--id" { id = v } else {
                    guard let t = Int64(v) else { throw UsageError("--timestamp takes epoch seconds") }
                    timestamp = t
                }
                i += 2
            default:
                guard path == nil, !args[i].hasPrefix("--") || args[i] == "-" else { throw UsageError("unexpected '\(args[i])'") }
                path = args[i]
                i += 1
            }
        }
        guard let path else { throw UsageError("sign-webhook needs a payload file (or - for stdin)") }
        let signer: WebhookSigner
        if let secret {
            guard let s = try? WebhookSecret(secret) else { throw UsageError("--secret must be whsec_ followed by base64") }
            signer = WebhookSigner(secret: s)
        } else {
            signer = try WebhookEventBuilder.configuredSigner(env)
        }
        let payload = try FileIO.read(path)
        _ = try JSONValue.parse(payload)
        let ts = timestamp ?? Clock.nowSeconds()
        let messageId = id ?? WebhookSigner.newMessageId()
        var out = WebhookEventBuilder.httpEvent(body: payload, headers: signer.headers(id: messageId, timestamp: ts, body: payload))
        out.append(0x0A)
        FileIO.write(fd: 1, out)
        return 0
    }

    /// `migrate`: applies pending schema migrations to `DATABASE_URL`.
    public static let migrate = Command(
        name: "migrate", usage: "", summary: "apply pending schema migrations to DATABASE_URL"
    ) { _, env in
        let config = try DatabaseConfig(environment: env)
        let connection = try PostgresConnection(url: config.url, connectTimeoutSeconds: config.connectTimeoutSeconds)
        let applied = try Migrator.migrate(connection)
        let all = try Migrator.appliedVersions(connection)
        print(applied.isEmpty
              ? "schema up to date (version \(all.last ?? 0))"
              : "applied migrations \(applied.map(String.init).joined(separator: ", ")); schema at version \(all.last ?? 0)")
        return 0
    }
}
