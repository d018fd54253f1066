import ClerkFunctions
import ClerkKit
import DevTools
import LambdaRuntime

extension WebhookEventBuilder {
    /// The signer for the first configured webhook secret (for `invoke --sign`).
    static func configuredSigner(_ env: Environment) throws -> WebhookSigner {
        for (variable, _) in try WebhookConfig.secretVariables(env) {
            if let value = env[variable], let first = WebhookSecret.list(value).first {
                guard let secret = try? WebhookSecret(first) else { throw ConfigError.invalid(variable, why: "not whsec_ + base64") }
                return WebhookSigner(secret: secret)
            }
        }
        throw ConfigError.missing("CLERK_WEBHOOK_SECRET", hint: "--sign signs with the configured webhook secret")
    }
}
