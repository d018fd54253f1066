import JSON
import LambdaRuntime

extension Functions {
    /// `onUserCreated` (`POST /webhooks/clerk/user-created`): creates the user with a free subscription and zeroed usage.
    public static let onUserCreated = LambdaFunction(
        name: "onUserCreated", summary: "Clerk user.created webhook: creates the user, its free subscription and usage rows.",
        accepts: webhookShapes
    ) { try WebhookFunction(name: "onUserCreated", accepts: EventRegistry.accepted(by: "onUserCreated"), $0) }
}
