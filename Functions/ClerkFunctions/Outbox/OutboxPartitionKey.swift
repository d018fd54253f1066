import JSON

/// The entity an outbox row is about, which Kafka partitions by so that one entity's messages keep their order:
/// the organization's Clerk id for organization events (the membership's when no organization is known), the
/// gateway key for API-key mappings, the user's Clerk id for everything else. One rule, read in Swift by the
/// Kafka destination and in SQL by `outbox requeue`, from the same table.
enum OutboxPartitionKey {
    /// The payload members that name the key, first present string wins, by queue.
    static let members: [String: [String]] = [
        // A membership deleted before it was ever stored names no organization: its own id keeps it keyed.
        "organization-events": ["clerkOrgId", "clerkMembershipId"],
        "api-key-mappings": ["key"],
        // Keyed by payer: an organization's billing by the organization, a user's by the user.
        "billing-events": ["clerkOrgId", "clerkUserId", "clerkPayerId"]
    ]
    /// The members for any other queue.
    static let otherQueues = ["clerkUserId"]
    /// The queues whose every row carries its key's whole state, so a key's last row is all a consumer ends with:
    /// an API key's mapping (`set` to a user, or `delete`). Not user events (only the fields that `changed`) nor
    /// organization events (one organization's key covers its several memberships).
    static let wholeState: Set<String> = ["api-key-mappings"]

    /// The key of a row of `queue` with `payload`, nil when it names none (librdkafka then picks a partition).
    static func of(queue: String, payload: JSONValue) -> String? {
        for name in members[queue] ?? otherQueues {
            if case .string(let s)? = payload[name] { return s }
        }
        return nil
    }

    /// The same rule as a SQL expression over an `outbox` row called `alias`: NULL where `of` answers nil.
    static func sql(_ alias: String) -> String {
        func firstString(_ names: [String]) -> String {
            let each = names.map { "CASE WHEN jsonb_typeof(\(alias).payload->'\($0)') = 'string' THEN \(alias).payload->>'\($0)' END" }
            return each.count == 1 ? each[0] : "COALESCE(" + each.joined(separator: ", ") + ")"
        }
        let cases = members.keys.sorted().map { "WHEN '\($0)' THEN \(firstString(members[$0] ?? []))" }
        return "(CASE \(alias).queue " + cases.joined(separator: " ") + " ELSE \(firstString(otherQueues)) END)"
    }
}
