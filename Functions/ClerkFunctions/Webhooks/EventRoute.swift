import ClerkKit
import JSON

/// The members of a Clerk webhook body the functions read.
enum EventKeys: String, CodingKey {
    case type, timestamp, data
}

/// One registered Clerk event type: its family, how its `data` decodes, and the store change it becomes.
struct EventRoute: Sendable {
    /// A decoded `data`, waiting for the delivery it came with to become a store change.
    typealias Reading = @Sendable (EventMeta) -> any StoreChange

    /// `user.created`, …
    let type: String
    /// Its family (tables, apply function, outbox topic).
    let family: EventFamily
    /// Whether a newly applied event gives the user an API key (when a profile service is configured).
    let issuesAPIKey: Bool
    /// Decodes `data` (Clerk's resource) from the body's container.
    let read: @Sendable (KeyedDecodingContainer<EventKeys>) throws -> Reading

    /// A route whose `data` decodes as `Resource` and becomes `change(resource, meta)`.
    static func on<Resource: Decodable & Sendable>(
        _ type: String, _ family: EventFamily, reads _: Resource.Type, issuesAPIKey: Bool = false,
        change: @escaping @Sendable (Resource, EventMeta) -> any StoreChange
    ) -> EventRoute {
        EventRoute(type: type, family: family, issuesAPIKey: issuesAPIKey) { container in
            let resource = try container.decode(Resource.self, forKey: .data)
            return { meta in change(resource, meta) }
        }
    }
}
