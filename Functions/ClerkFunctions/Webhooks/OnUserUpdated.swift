import JSON
import LambdaRuntime

extension Functions {
    /// `onUserUpdated` (`POST /webhooks/clerk/user-updated`): applies newer profiles, ignores older ones.
    public static let onUserUpdated = LambdaFunction(
        name: "onUserUpdated", summary: "Clerk user.updated webhook: applies the profile unless a newer one is stored.",
        accepts: webhookShapes
    ) { try WebhookFunction(name: "onUserUpdated", accepts: EventRegistry.accepted(by: "onUserUpdated"), $0) }
}
