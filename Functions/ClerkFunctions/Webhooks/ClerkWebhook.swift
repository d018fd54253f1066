import JSON
import LambdaRuntime

extension Functions {
    /// `clerkWebhook` (`POST /webhooks/clerk`): one endpoint for every Clerk event, routed by `type`.
    public static let clerkWebhook = LambdaFunction(
        name: "clerkWebhook",
        summary: "All Clerk webhooks on one endpoint: user.*, organization.* and organizationMembership.* applied, other types answered 202 ignored.",
        accepts: webhookShapes
    ) { try WebhookFunction(name: "clerkWebhook", accepts: EventRegistry.accepted(by: "clerkWebhook"), $0) }

    /// The HTTP event shapes every webhook function accepts.
    static let webhookShapes = [
        "API Gateway HTTP API v2 (POST, Svix-signed body)", "Lambda Function URL",
        "REST API proxy (1.0)", "isBase64Encoded bodies"
    ]
}
