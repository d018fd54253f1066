extension EventRegistry {
    /// Which webhook function takes which registered types: the one place a function's accepted set is
    /// written. `clerkWebhook` takes every family, so a newly registered type reaches it without a step here.
    static let functions: [(name: String, accepts: Set<String>)] = [
        ("clerkWebhook", types(of: Set(EventFamily.allCases))),
        ("onUserCreated", ["user.created"]),
        ("onUserUpdated", ["user.updated"]),
        ("onUserDeleted", ["user.deleted"]),
        ("onOrganizationEvent", types(of: [.organizations])),
        ("onBillingEvent", types(of: [.billing]))
    ]

    /// The types function `name` takes (empty for a name not listed).
    static func accepted(by name: String) -> Set<String> {
        functions.first { $0.name == name }?.accepts ?? []
    }

    /// The README's event table: every registered type, its family, outbox topic and the functions that take it.
    static func markdownTable() -> String {
        var lines = ["| event | family | outbox topic | functions |", "|---|---|---|---|"]
        for route in routes {
            let takers = functions.filter { $0.accepts.contains(route.type) }.map { "`\($0.name)`" }.joined(separator: ", ")
            lines.append("| `\(route.type)` | \(route.family.rawValue) | `\(route.family.outboxTopic)` | \(takers) |")
        }
        return lines.joined(separator: "\n")
    }
}
