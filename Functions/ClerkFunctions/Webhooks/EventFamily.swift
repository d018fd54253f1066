/// The kinds of Clerk resource the functions keep, each with its own tables, apply functions and outbox topic.
public enum EventFamily: String, Sendable, CaseIterable {
    /// `user.*`: users, their subscription and usage rows.
    case users
    /// `organization.*` and `organizationMembership.*`.
    case organizations
    /// Clerk Billing: `subscription.*`, `subscriptionItem.*`, `paymentAttempt.*`.
    case billing

    /// The outbox queue (Kafka topic) the family's events go to; the store's apply functions write it.
    public var outboxTopic: String {
        switch self {
        case .users: "user-events"
        case .organizations: "organization-events"
        case .billing: "billing-events"
        }
    }
}
