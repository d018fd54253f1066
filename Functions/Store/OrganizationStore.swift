
/// One organization event to apply, in the store's own terms.
public struct OrganizationChange: Sendable {
    /// What happened.
    public enum Kind: String, Sendable {
        case created = "organization.created"
        case updated = "organization.updated"
        case deleted = "organization.deleted"
    }

    /// What happened.
    public var kind: Kind
    /// The delivery id (`svix-id`): the deduplication key.
    public var deliveryId: String
    /// `development` or `production`.
    public var environment: String
    /// `org_…`.
    public var clerkOrgId: String
    /// The display name.
    public var name: String?
    /// The URL slug.
    public var slug: String?
    /// The logo URL.
    public var imageUrl: String?
    /// `public_metadata` as JSON text.
    public var publicMetadataJSON: String?
    /// Clerk's creation time, epoch ms.
    public var createdAtMs: Int64?
    /// Clerk's update time, epoch ms: orders deliveries of the same organization.
    public var updatedAtMs: Int64?
    /// The raw webhook body (its `data` is stored as `raw_payload`).
    public var rawBody: String

    /// Creates a change.
    public init(kind: Kind, deliveryId: String, environment: String, clerkOrgId: String, name: String? = nil,
                slug: String? = nil, imageUrl: String? = nil, publicMetadataJSON: String? = nil,
                createdAtMs: Int64? = nil, updatedAtMs: Int64? = nil, rawBody: String) {
        self.kind = kind
        self.deliveryId = deliveryId
        self.environment = environment
        self.clerkOrgId = clerkOrgId
        self.name = name
        self.slug = slug
        self.imageUrl = imageUrl
        self.publicMetadataJSON = publicMetadataJSON
        self.createdAtMs = createdAtMs
        self.updatedAtMs = updatedAtMs
        self.rawBody = rawBody
    }
}

/// One membership event to apply.
public struct MembershipChange: Sendable {
    /// What happened.
    public enum Kind: String, Sendable {
        case created = "organizationMembership.created"
        case updated = "organizationMembership.updated"
        case deleted = "organizationMembership.deleted"
    }

    /// What happened.
    public var kind: Kind
    /// The delivery id (`svix-id`).
    public var deliveryId: String
    /// `development` or `production`.
    public var environment: String
    /// `orgmem_…`.
    public var clerkMembershipId: String
    /// `org_…`, when the payload names it.
    public var clerkOrgId: String?
    /// `user_…`, when the payload names it.
    public var clerkUserId: String?
    /// `org:admin`, ...
    public var role: String?
    /// `org:feature:permission` names.
    public var permissions: [String]
    /// Epoch ms.
    public var createdAtMs: Int64?
    /// Epoch ms: orders deliveries of the same membership.
    public var updatedAtMs: Int64?

    /// Creates a change.
    public init(kind: Kind, deliveryId: String, environment: String, clerkMembershipId: String, clerkOrgId: String?,
                clerkUserId: String?, role: String? = nil, permissions: [String] = [], createdAtMs: Int64? = nil,
                updatedAtMs: Int64? = nil) {
        self.kind = kind
        self.deliveryId = deliveryId
        self.environment = environment
        self.clerkMembershipId = clerkMembershipId
        self.clerkOrgId = clerkOrgId
        self.clerkUserId = clerkUserId
        self.role = role
        self.permissions = permissions
        self.createdAtMs = createdAtMs
        self.updatedAtMs = updatedAtMs
    }
}

/// How an organization or membership change was applied, and the row it concerns.
public struct OrganizationSyncResult: Sendable, Equatable {
    /// How it was applied (the user rules: processed, duplicate, stale).
    public var status: SyncStatus
    /// The internal id of the organization or membership, when a row exists.
    public var id: PostgresUUID?
}

/// A live membership as `me` shows it.
public struct StoredMembership: Sendable, Equatable {
    /// `org_…`.
    public var clerkOrgId: String
    /// The organization's slug.
    public var slug: String?
    /// The organization's name.
    public var name: String?
    /// `org:admin`, ...
    public var role: String?
}

/// Organizations and memberships, applied through `clerk_apply_organization_event` and
/// `clerk_apply_membership_event` (the rules live in the database, as the users' do).
public struct OrganizationStore {
    let connection: PostgresConnection

    /// Uses `connection`.
    public init(connection: PostgresConnection) { self.connection = connection }

    /// Applies one organization change atomically.
    public func apply(_ change: OrganizationChange) throws(PostgresError) -> OrganizationSyncResult {
        let rows = try connection.query(
            "SELECT o_outcome, o_organization_id AS o_id FROM clerk_apply_organization_event($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            [change.deliveryId, change.environment, change.kind.rawValue, change.clerkOrgId, change.name, change.slug,
             change.imageUrl, change.publicMetadataJSON, change.rawBody, change.createdAtMs, change.updatedAtMs])
        return try Self.result(rows)
    }

    /// Applies one membership change atomically.
    public func apply(_ change: MembershipChange) throws(PostgresError) -> OrganizationSyncResult {
        let rows = try connection.query(
            "SELECT o_outcome, o_membership_id AS o_id FROM clerk_apply_membership_event($1, $2, $3, $4, $5, $6, $7, $8::text[], $9, $10)",
            [change.deliveryId, change.environment, change.kind.rawValue, change.clerkMembershipId, change.clerkOrgId,
             change.clerkUserId, change.role, PostgresArray(change.permissions.map { Optional($0) }),
             change.createdAtMs, change.updatedAtMs])
        return try Self.result(rows)
    }

    private static func result(_ rows: PostgresRows) throws(PostgresError) -> OrganizationSyncResult {
        guard let row = rows.first else { throw .query(sqlState: "XX000", message: "sync function returned no row") }
        let outcome = try row.decode("o_outcome", as: String.self)
        guard let status = SyncStatus(rawValue: outcome) else { throw .decoding(column: "o_outcome", expected: "SyncStatus") }
        return OrganizationSyncResult(status: status, id: try row.decodeIfPresent("o_id", as: PostgresUUID.self))
    }

    /// The user's live memberships in live organizations, by organization name.
    public func memberships(userId: PostgresUUID) throws(PostgresError) -> [StoredMembership] {
        try connection.query("""
            SELECT o.clerk_org_id, o.slug, o.name, m.role
              FROM organization_memberships m JOIN organizations o ON o.id = m.organization_id
             WHERE m.user_id = $1 AND m.deleted_at IS NULL AND o.deleted_at IS NULL
             ORDER BY o.name, o.clerk_org_id
            """, [userId]).map { row throws(PostgresError) in
            StoredMembership(clerkOrgId: try row.decode("clerk_org_id"), slug: try row.decodeIfPresent("slug"),
                             name: try row.decodeIfPresent("name"), role: try row.decodeIfPresent("role"))
        }
    }
}
