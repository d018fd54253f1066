import LambdaRuntime

extension Functions {
    /// `onBillingEvent` (`POST /webhooks/clerk/billing`): Clerk Billing's subscriptions, items and payment attempts.
    public static let onBillingEvent = LambdaFunction(
        name: "onBillingEvent",
        summary:
            "Clerk Billing webhooks (subscription.*, subscriptionItem.*, paymentAttempt.*): billing tables, and the user's tier follows the active plan.",
        accepts: webhookShapes
    ) { try WebhookFunction(name: "onBillingEvent", accepts: EventRegistry.accepted(by: "onBillingEvent"), $0) }
}
