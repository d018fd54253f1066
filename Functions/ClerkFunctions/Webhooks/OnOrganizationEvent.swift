import JSON
import LambdaRuntime

extension Functions {
    /// `onOrganizationEvent` (`POST /webhooks/clerk/organizations`): organizations and their memberships.
    public static let onOrganizationEvent = LambdaFunction(
        name: "onOrganizationEvent",
        summary: "Clerk organization.* and organizationMembership.* webhooks: organizations, memberships, tombstones.",
        accepts: webhookShapes
    ) { try WebhookFunction(name: "onOrganizationEvent", accepts: EventRegistry.accepted(by: "onOrganizationEvent"), $0) }
}
