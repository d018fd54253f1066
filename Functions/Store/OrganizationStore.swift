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
    /// The organization (for a deletion, its id, slug and the deleted object).
    public var organization: OrganizationRecord

    /// Creates a change.
    public init(kind: Kind, deliveryId: String, environment: String, organization: OrganizationRecord) {
        self.kind = kind
        self.deliveryId = deliveryId
        self.environment = environment
        self.organization = organization
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
    /// The membership (for a bare deletion, its id alone).
    public var membership: MembershipRecord

    /// Creates a change.
    public init(kind: Kind, deliveryId: String, environment: String, membership: MembershipRecord) {
        self.kind = kind
        self.deliveryId = deliveryId
        self.environment = environment
        self.membership = membership
    }
}

/// How an organization or membership change was applied, and the row it concerns.
public struct OrganizationSyncResult: Sendable, Equatable {
    /// How it was applied (the user rules: processed, duplicate, stale).
    public var status: SyncStatus
    /// The internal id of the organization or membership, when a row exists.
    public var id: PostgresUUID?
    /// NUL characters removed from the change before it was stored.
    public var nulRemoved = 0

    /// A result (stores in memory build these too).
    public init(status: SyncStatus, id: PostgresUUID?, nulRemoved: Int = 0) {
        self.status = status
        self.id = id
        self.nulRemoved = nulRemoved
    }
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

    /// A membership row (the store reads them; unit tests make them).
    public init(clerkOrgId: String, slug: String? = nil, name: String? = nil, role: String? = nil) {
        self.clerkOrgId = clerkOrgId
        self.slug = slug
        self.name = name
        self.role = role
    }
}

/// Organizations and memberships, applied through `clerk_apply_organization_event` and
/// `clerk_apply_membership_event` (the rules live in the database, as the users' do).
public struct OrganizationStore {
    let connection: PostgresConnection

    /// Uses `connection`.
    public init(connection: PostgresConnection) { self.connection = connection }

    /// Applies one organization change atomically.
    public func apply(_ change: OrganizationChange) throws(PostgresError) -> OrganizationSyncResult {
        let (org, removed) = change.organization.cleaned()
        let rows = try connection.query(
            "SELECT o_outcome, o_organization_id AS o_id FROM clerk_apply_organization_event($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            [
                PostgresText.removingNUL(change.deliveryId).text, change.environment, change.kind.rawValue, org.clerkOrgId, org.name,
                org.slug, org.imageUrl, org.publicMetadataJSON, #"{"data":"# + org.rawJSON + "}", org.createdAtMs, org.updatedAtMs
            ])
        return try Self.result(rows, removed)
    }

    /// Applies one membership change atomically.
    public func apply(_ change: MembershipChange) throws(PostgresError) -> OrganizationSyncResult {
        let (m, removed) = change.membership.cleaned()
        let rows = try connection.query(
            "SELECT o_outcome, o_membership_id AS o_id FROM clerk_apply_membership_event($1, $2, $3, $4, $5, $6, $7, $8::text[], $9, $10)",
            [
                PostgresText.removingNUL(change.deliveryId).text, change.environment, change.kind.rawValue, m.clerkMembershipId,
                m.clerkOrgId, m.clerkUserId, m.role, PostgresArray(m.permissions.map { Optional($0) }), m.createdAtMs, m.updatedAtMs
            ])
        return try Self.result(rows, removed)
    }

    private static func result(_ rows: PostgresRows, _ removed: Int) throws(PostgresError) -> OrganizationSyncResult {
        guard let row = rows.first else { throw .query(sqlState: "XX000", message: "sync function returned no row") }
        let outcome = try row.decode("o_outcome", as: String.self)
        guard let status = SyncStatus(rawValue: outcome) else { throw .decoding(column: "o_outcome", expected: "SyncStatus") }
        return OrganizationSyncResult(status: status, id: try row.decodeIfPresent("o_id", as: PostgresUUID.self), nulRemoved: removed)
    }

    /// The user's live memberships in live organizations, by organization name.
    public func memberships(userId: PostgresUUID) throws(PostgresError) -> [StoredMembership] {
        try connection.query(
            """
            SELECT o.clerk_org_id, o.slug, o.name, m.role
              FROM organization_memberships m JOIN organizations o ON o.id = m.organization_id
             WHERE m.user_id = $1 AND m.deleted_at IS NULL AND o.deleted_at IS NULL
             ORDER BY o.name, o.clerk_org_id
            """, [userId]
        ).map { row throws(PostgresError) in
            StoredMembership(
                clerkOrgId: try row.decode("clerk_org_id"), slug: try row.decodeIfPresent("slug"),
                name: try row.decodeIfPresent("name"), role: try row.decodeIfPresent("role"))
        }
    }
}
