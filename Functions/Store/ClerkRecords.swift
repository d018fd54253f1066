/// A Clerk user as the store keeps it: what webhooks, the just-in-time fill and the backfill all write.
public struct UserRecord: Sendable, Equatable {
    /// `user_…`.
    public var clerkUserId: String
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
    /// The UserJSON as Clerk sent it (stored as `raw_payload`).
    public var rawJSON: String
    /// Clerk's creation time, epoch ms.
    public var createdAtMs: Int64?
    /// Clerk's update time, epoch ms: orders versions of the same user.
    public var updatedAtMs: Int64?

    /// Describes a user.
    public init(
        clerkUserId: String, email: String? = nil, firstName: String? = nil, lastName: String? = nil,
        username: String? = nil, imageUrl: String? = nil, rawJSON: String, createdAtMs: Int64? = nil,
        updatedAtMs: Int64? = nil
    ) {
        self.clerkUserId = clerkUserId
        self.email = email
        self.firstName = firstName
        self.lastName = lastName
        self.username = username
        self.imageUrl = imageUrl
        self.rawJSON = rawJSON
        self.createdAtMs = createdAtMs
        self.updatedAtMs = updatedAtMs
    }

    /// The record without NUL (`PostgresText`), and how many were removed.
    public func cleaned() -> (record: UserRecord, removed: Int) {
        var c = NULCleaner()
        let record = UserRecord(
            clerkUserId: c.text(clerkUserId), email: c.text(email), firstName: c.text(firstName), lastName: c.text(lastName),
            username: c.text(username), imageUrl: c.text(imageUrl), rawJSON: c.json(rawJSON), createdAtMs: createdAtMs,
            updatedAtMs: updatedAtMs)
        return (record, c.removed)
    }
}

/// A Clerk organization as the store keeps it.
public struct OrganizationRecord: Sendable, Equatable {
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
    /// The OrganizationJSON as Clerk sent it (stored as `raw_payload`).
    public var rawJSON: String
    /// Epoch ms.
    public var createdAtMs: Int64?
    /// Epoch ms: orders versions of the same organization.
    public var updatedAtMs: Int64?

    /// Describes an organization.
    public init(
        clerkOrgId: String, name: String? = nil, slug: String? = nil, imageUrl: String? = nil,
        publicMetadataJSON: String? = nil, rawJSON: String, createdAtMs: Int64? = nil, updatedAtMs: Int64? = nil
    ) {
        self.clerkOrgId = clerkOrgId
        self.name = name
        self.slug = slug
        self.imageUrl = imageUrl
        self.publicMetadataJSON = publicMetadataJSON
        self.rawJSON = rawJSON
        self.createdAtMs = createdAtMs
        self.updatedAtMs = updatedAtMs
    }

    /// The record without NUL, and how many were removed.
    public func cleaned() -> (record: OrganizationRecord, removed: Int) {
        var c = NULCleaner()
        let record = OrganizationRecord(
            clerkOrgId: c.text(clerkOrgId), name: c.text(name), slug: c.text(slug), imageUrl: c.text(imageUrl),
            publicMetadataJSON: publicMetadataJSON.map { c.json($0) }, rawJSON: c.json(rawJSON), createdAtMs: createdAtMs,
            updatedAtMs: updatedAtMs)
        return (record, c.removed)
    }
}

/// A Clerk organization membership as the store keeps it.
public struct MembershipRecord: Sendable, Equatable {
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
    /// Epoch ms: orders versions of the same membership.
    public var updatedAtMs: Int64?
    /// The OrganizationMembershipJSON as Clerk sent it (kept in `queue_rejects` when PostgreSQL refuses it).
    public var rawJSON: String

    /// Describes a membership.
    public init(
        clerkMembershipId: String, clerkOrgId: String? = nil, clerkUserId: String? = nil, role: String? = nil,
        permissions: [String] = [], createdAtMs: Int64? = nil, updatedAtMs: Int64? = nil, rawJSON: String = ""
    ) {
        self.clerkMembershipId = clerkMembershipId
        self.clerkOrgId = clerkOrgId
        self.clerkUserId = clerkUserId
        self.role = role
        self.permissions = permissions
        self.createdAtMs = createdAtMs
        self.updatedAtMs = updatedAtMs
        self.rawJSON = rawJSON
    }

    /// The record without NUL, and how many were removed.
    public func cleaned() -> (record: MembershipRecord, removed: Int) {
        var c = NULCleaner()
        let record = MembershipRecord(
            clerkMembershipId: c.text(clerkMembershipId), clerkOrgId: c.text(clerkOrgId), clerkUserId: c.text(clerkUserId),
            role: c.text(role), permissions: permissions.map { c.text($0) }, createdAtMs: createdAtMs,
            updatedAtMs: updatedAtMs, rawJSON: c.json(rawJSON))
        return (record, c.removed)
    }
}

/// Removes NUL from the fields of one record, counting: the one place text is cleaned on its way in.
struct NULCleaner {
    private var fromText = 0
    private var fromJSON = 0
    /// NUL removed, counted once: the fields are read from the JSON, so its count is the payload's (the
    /// fields' count only when the JSON held none, as for a record built by hand).
    var removed: Int { fromJSON > 0 ? fromJSON : fromText }

    mutating func text(_ value: String) -> String {
        let (text, n) = PostgresText.removingNUL(value)
        fromText += n
        return text
    }

    mutating func text(_ value: String?) -> String? { value.map { text($0) } }

    mutating func json(_ value: String) -> String {
        let (bytes, n) = PostgresText.removingNUL(fromJSON: Array(value.utf8))
        fromJSON += n
        return n == 0 ? value : String(decoding: bytes, as: UTF8.self)
    }
}
