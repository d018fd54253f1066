import FoundationEssentials

/// One user event to apply, in the store's own terms (the store knows nothing of Clerk's JSON).
public struct UserChange: Sendable {
    /// What happened.
    public enum Kind: String, Sendable {
        case created = "user.created"
        case updated = "user.updated"
        case deleted = "user.deleted"
    }

    /// What happened.
    public var kind: Kind
    /// The delivery id (`svix-id`): the deduplication key.
    public var deliveryId: String
    /// `development` or `production`: the same Clerk id in two environments is two users.
    public var environment: String
    /// `user_…`.
    public var clerkUserId: String
    /// The primary email address.
    public var email: String?
    /// Names and picture.
    public var firstName: String?
    public var lastName: String?
    public var username: String?
    public var imageUrl: String?
    /// Clerk's timestamps, epoch ms; `updatedAtMs` orders deliveries.
    public var createdAtMs: Int64?
    public var updatedAtMs: Int64?
    /// The raw webhook body (its `data` is stored as `raw_payload`).
    public var rawBody: String

    /// Creates a change.
    public init(kind: Kind, deliveryId: String, environment: String, clerkUserId: String, email: String? = nil,
                firstName: String? = nil, lastName: String? = nil, username: String? = nil, imageUrl: String? = nil,
                createdAtMs: Int64? = nil, updatedAtMs: Int64? = nil, rawBody: String) {
        self.kind = kind
        self.deliveryId = deliveryId
        self.environment = environment
        self.clerkUserId = clerkUserId
        self.email = email
        self.firstName = firstName
        self.lastName = lastName
        self.username = username
        self.imageUrl = imageUrl
        self.createdAtMs = createdAtMs
        self.updatedAtMs = updatedAtMs
        self.rawBody = rawBody
    }
}

/// How a change was applied.
public enum SyncStatus: String, Sendable, Codable {
    /// Written.
    case processed
    /// This delivery was applied before; nothing changed.
    case duplicate
    /// Older than what is stored, or the user is deleted; nothing changed.
    case stale
}

/// The outcome of applying a change.
public struct SyncResult: Sendable, Equatable {
    /// How it was applied.
    public var status: SyncStatus
    /// The internal user id, when a row exists.
    public var userId: UUID?
}

/// Users, their subscription and usage rows, and the delivery log.
public struct UserStore {
    private let connection: PostgresConnection

    /// Uses `connection`.
    public init(connection: PostgresConnection) { self.connection = connection }

    /// Applies one change atomically (one statement, one transaction).
    public func apply(_ change: UserChange) throws(PostgresError) -> SyncResult {
        let rows = try connection.query(
            "SELECT o_outcome, o_user_id FROM clerk_apply_user_event($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            [change.deliveryId, change.environment, change.kind.rawValue, change.clerkUserId, change.email,
             change.firstName, change.lastName, change.username, change.imageUrl, change.rawBody,
             change.createdAtMs, change.updatedAtMs])
        guard let row = rows.first else { throw .query(sqlState: "XX000", message: "sync function returned no row") }
        let outcome = try row.decode("o_outcome", as: String.self)
        guard let status = SyncStatus(rawValue: outcome) else { throw .decoding(column: "o_outcome", expected: "SyncStatus") }
        return SyncResult(status: status, userId: try row.decodeIfPresent("o_user_id", as: UUID.self))
    }
}
