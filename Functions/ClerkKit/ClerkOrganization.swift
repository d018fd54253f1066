import JSON

/// The parts of Clerk's `OrganizationJSON` this project stores (timestamps in epoch milliseconds).
public struct ClerkOrganization: Decodable, Sendable, Equatable {
    /// `org_…`.
    public let id: String
    /// The display name.
    public let name: String?
    /// The URL slug.
    public let slug: String?
    /// The logo URL.
    public let imageUrl: String?
    /// `public_metadata`, re-serialised as compact JSON (`{}` when absent).
    public let publicMetadataJSON: String
    /// Epoch ms.
    public let createdAt: Int64?
    /// Epoch ms: orders deliveries of the same organization.
    public let updatedAt: Int64?

    enum CodingKeys: String, CodingKey {
        case id, name, slug
        case imageUrl = "image_url"
        case publicMetadata = "public_metadata"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    /// Creates an organization from its parts (tests, stand-ins).
    public init(
        id: String, name: String?, slug: String?, imageUrl: String? = nil, publicMetadataJSON: String = "{}",
        createdAt: Int64?, updatedAt: Int64?
    ) {
        self.id = id
        self.name = name
        self.slug = slug
        self.imageUrl = imageUrl
        self.publicMetadataJSON = publicMetadataJSON
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        slug = try c.decodeIfPresent(String.self, forKey: .slug)
        imageUrl = try c.decodeIfPresent(String.self, forKey: .imageUrl)
        publicMetadataJSON = try c.decodeIfPresent(JSONValue.self, forKey: .publicMetadata)?.serialized() ?? "{}"
        createdAt = try c.decodeIfPresent(Int64.self, forKey: .createdAt)
        updatedAt = try c.decodeIfPresent(Int64.self, forKey: .updatedAt)
    }
}

/// The parts of Clerk's `OrganizationMembershipJSON` this project stores.
public struct ClerkMembership: Decodable, Sendable, Equatable {
    /// `orgmem_…`.
    public let id: String
    /// `org:admin`, `org:member`, ...
    public let role: String?
    /// `org:feature:permission` names.
    public let permissions: [String]
    /// The organization's id (from the nested `organization`).
    public let organizationId: String
    /// The member's id (from `public_user_data.user_id`).
    public let userId: String?
    /// Epoch ms.
    public let createdAt: Int64?
    /// Epoch ms: orders deliveries of the same membership.
    public let updatedAt: Int64?

    enum CodingKeys: String, CodingKey {
        case id, role, permissions, organization
        case publicUserData = "public_user_data"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    struct Ref: Decodable { let id: String }
    struct UserData: Decodable {
        let userId: String?
        enum CodingKeys: String, CodingKey { case userId = "user_id" }
    }

    /// Creates a membership from its parts (tests, stand-ins).
    public init(
        id: String, role: String?, permissions: [String], organizationId: String, userId: String?,
        createdAt: Int64?, updatedAt: Int64?
    ) {
        self.id = id
        self.role = role
        self.permissions = permissions
        self.organizationId = organizationId
        self.userId = userId
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        role = try c.decodeIfPresent(String.self, forKey: .role)
        permissions = try c.decodeIfPresent([String].self, forKey: .permissions) ?? []
        organizationId = try c.decode(Ref.self, forKey: .organization).id
        userId = try c.decodeIfPresent(UserData.self, forKey: .publicUserData)?.userId
        createdAt = try c.decodeIfPresent(Int64.self, forKey: .createdAt)
        updatedAt = try c.decodeIfPresent(Int64.self, forKey: .updatedAt)
    }
}
