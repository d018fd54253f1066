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
    /// The user (for a deletion, its id and the deleted object).
    public var user: UserRecord

    /// Creates a change.
    public init(kind: Kind, deliveryId: String, environment: String, user: UserRecord) {
        self.kind = kind
        self.deliveryId = deliveryId
        self.environment = environment
        self.user = user
    }

    /// `user_…`.
    public var clerkUserId: String { user.clerkUserId }
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
    public var userId: PostgresUUID?
    /// NUL characters removed from the change before it was stored (PostgreSQL cannot hold them).
    public var nulRemoved = 0

    /// A result (stores in memory build these too).
    public init(status: SyncStatus, userId: PostgresUUID?, nulRemoved: Int = 0) {
        self.status = status
        self.userId = userId
        self.nulRemoved = nulRemoved
    }
}

/// Users, their subscription and usage rows, and the delivery log.
public struct UserStore {
    let connection: PostgresConnection

    /// Uses `connection`.
    public init(connection: PostgresConnection) { self.connection = connection }

    /// Applies one change atomically (one statement, one transaction). NUL characters, which PostgreSQL
    /// cannot store, are removed first and counted in the result.
    public func apply(_ change: UserChange) throws(PostgresError) -> SyncResult {
        let (user, removed) = change.user.cleaned()
        let rows = try connection.query(
            "SELECT o_outcome, o_user_id FROM clerk_apply_user_event($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            [
                PostgresText.removingNUL(change.deliveryId).text, change.environment, change.kind.rawValue, user.clerkUserId,
                user.email, user.firstName, user.lastName, user.username, user.imageUrl, #"{"data":"# + user.rawJSON + "}",
                user.createdAtMs, user.updatedAtMs
            ])
        guard let row = rows.first else { throw .query(sqlState: "XX000", message: "sync function returned no row") }
        let outcome = try row.decode("o_outcome", as: String.self)
        guard let status = SyncStatus(rawValue: outcome) else { throw .decoding(column: "o_outcome", expected: "SyncStatus") }
        return SyncResult(status: status, userId: try row.decodeIfPresent("o_user_id", as: PostgresUUID.self), nulRemoved: removed)
    }
}

/// A user row as the API shows it.
public struct StoredUser: Sendable, Equatable {
    /// The internal id.
    public var id: PostgresUUID
    /// `user_…`.
    public var clerkUserId: String
    /// `development` or `production`.
    public var environment: String
    /// The primary email address.
    public var email: String?
    /// Given name.
    public var firstName: String?
    /// Family name.
    public var lastName: String?
    /// Clerk username.
    public var username: String?
    /// Profile picture URL.
    public var imageUrl: String?
    /// The subscription tier, when the user has one.
    public var tier: String?
    /// When the row was created, epoch ms.
    public var createdAtMs: Int64
    /// When the row last changed, epoch ms.
    public var updatedAtMs: Int64
    /// Whether the row is a tombstone.
    public var deleted: Bool

    /// A user row (the store reads them; unit tests make them).
    public init(
        id: PostgresUUID, clerkUserId: String, environment: String, email: String? = nil, firstName: String? = nil,
        lastName: String? = nil, username: String? = nil, imageUrl: String? = nil, tier: String? = nil,
        createdAtMs: Int64, updatedAtMs: Int64, deleted: Bool
    ) {
        self.id = id
        self.clerkUserId = clerkUserId
        self.environment = environment
        self.email = email
        self.firstName = firstName
        self.lastName = lastName
        self.username = username
        self.imageUrl = imageUrl
        self.tier = tier
        self.createdAtMs = createdAtMs
        self.updatedAtMs = updatedAtMs
        self.deleted = deleted
    }
}

extension UserStore {
    private static let selectUser = """
        SELECT u.id, u.clerk_user_id, u.environment, u.email, u.first_name, u.last_name, u.username, u.image_url,
               s.tier, (extract(epoch FROM u.created_at) * 1000)::bigint AS created_ms,
               (extract(epoch FROM u.updated_at) * 1000)::bigint AS updated_ms, u.deleted_at IS NOT NULL AS deleted
          FROM users u LEFT JOIN subscriptions s ON s.user_id = u.id
        """

    private static func decode(_ row: PostgresRow) throws(PostgresError) -> StoredUser {
        StoredUser(
            id: try row.decode("id"), clerkUserId: try row.decode("clerk_user_id"), environment: try row.decode("environment"),
            email: try row.decodeIfPresent("email"), firstName: try row.decodeIfPresent("first_name"),
            lastName: try row.decodeIfPresent("last_name"), username: try row.decodeIfPresent("username"),
            imageUrl: try row.decodeIfPresent("image_url"), tier: try row.decodeIfPresent("tier"),
            createdAtMs: try row.decode("created_ms"), updatedAtMs: try row.decode("updated_ms"), deleted: try row.decode("deleted"))
    }

    /// The user with internal id `id`.
    public func find(id: PostgresUUID) throws(PostgresError) -> StoredUser? {
        try connection.query(Self.selectUser + " WHERE u.id = $1", [id]).first.map(Self.decode)
    }

    /// The user with this Clerk id in this environment.
    public func find(clerkUserId: String, environment: String) throws(PostgresError) -> StoredUser? {
        try connection.query(Self.selectUser + " WHERE u.clerk_user_id = $1 AND u.environment = $2", [clerkUserId, environment])
            .first.map(Self.decode)
    }

    /// The internal id for a Clerk user, creating a minimal row (with its free subscription and usage)
    /// when the webhook has not arrived yet. Concurrent first calls create exactly one row.
    public func findOrCreate(clerkUserId: String, environment: String) throws(PostgresError)
        -> (id: PostgresUUID, deleted: Bool, created: Bool)
    {
        let lookup = "SELECT id, deleted_at IS NOT NULL AS deleted FROM users WHERE clerk_user_id = $1 AND environment = $2"
        for _ in 0..<3 {
            if let row = try connection.query(lookup, [clerkUserId, environment]).first {
                return (try row.decode("id"), try row.decode("deleted"), false)
            }
            // One statement: the user and its dependent rows, or nothing if another request won the race.
            let inserted = try connection.query(
                """
                WITH ins AS (
                    INSERT INTO users (clerk_user_id, environment) VALUES ($1, $2)
                    ON CONFLICT (clerk_user_id, environment) DO NOTHING RETURNING id),
                sub AS (INSERT INTO subscriptions (user_id) SELECT id FROM ins),
                usage AS (INSERT INTO usage_metrics (user_id) SELECT id FROM ins)
                SELECT id FROM ins
                """, [clerkUserId, environment])
            if let row = inserted.first { return (try row.decode("id"), false, true) }
        }
        throw .query(sqlState: "40001", message: "user row neither found nor created")
    }
}
