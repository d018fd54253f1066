import JSON
import LambdaRuntime

extension Functions {
    /// The organization and membership event types the functions apply.
    static let organizationEventTypes: Set<String> = [
        "organization.created", "organization.updated", "organization.deleted",
        "organizationMembership.created", "organizationMembership.updated", "organizationMembership.deleted",
    ]

    /// `onOrganizationEvent` (`POST /webhooks/clerk/organizations`): organizations and their memberships.
    public static let onOrganizationEvent = LambdaFunction(
        name: "onOrganizationEvent",
        summary: "Clerk organization.* and organizationMembership.* webhooks: organizations, memberships, tombstones.",
        accepts: webhookShapes
    ) { try WebhookFunction(name: "onOrganizationEvent", handles: organizationEventTypes, $0) }
}
