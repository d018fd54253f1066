import JSON
import LambdaRuntime

extension Functions {
    /// `onUserDeleted` (`POST /webhooks/clerk/user-deleted`): keeps a tombstone, erases personal data.
    public static let onUserDeleted = LambdaFunction(
        name: "onUserDeleted", summary: "Clerk user.deleted webhook: tombstones the user and erases personal data.",
        accepts: webhookShapes
    ) { try WebhookFunction(name: "onUserDeleted", accepts: EventRegistry.accepted(by: "onUserDeleted"), $0) }
}
