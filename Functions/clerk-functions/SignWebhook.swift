import ArgumentParser
import ClerkFunctions
import ClerkKit
import DevTools
import JSON
import LambdaRuntime
import LocalHosting

/// `sign-webhook`: prints an HTTP API v2 event carrying a Clerk payload with valid Svix headers.
struct SignWebhook: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign-webhook",
        abstract: "Print an HTTP API v2 event with the payload and fresh Svix headers.")

    @Option(help: "The signing secret (whsec_…); default: the configured one.")
    var secret: String?

    @Option(help: "The svix-id (default: a fresh msg_…).")
    var id: String?

    @Option(help: "The svix-timestamp in epoch seconds (default: now).")
    var timestamp: Int64?

    @Argument(help: "The Clerk payload file, or - for standard input.")
    var payload: String

    func run() throws {
        let env = CLI.environment
        let signer: WebhookSigner
        if let secret {
            guard let s = try? WebhookSecret(secret) else { throw ValidationError("--secret must be whsec_ followed by base64") }
            signer = WebhookSigner(secret: s)
        } else {
            signer = try WebhookEventBuilder.configuredSigner(env)
        }
        let body = payload == "-" ? try FileIO.readAll(fd: 0, name: "stdin") : try FileIO.read(payload)
        do {
            try JSONScanner.validate(body)
        } catch {
            throw ValidationError("\(payload) is not JSON")
        }
        let messageId = id ?? WebhookSigner.newMessageId()
        let event = WebhookEventBuilder.httpEvent(
            body: body, headers: signer.headers(id: messageId, timestamp: timestamp ?? Clock.nowSeconds(), body: body))
        FileIO.write(fd: 1, event + [0x0A])
    }
}
