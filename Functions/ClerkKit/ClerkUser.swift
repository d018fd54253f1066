import JSON

/// The parts of Clerk's `UserJSON` this project stores (timestamps in epoch milliseconds).
public struct ClerkUser: Decodable, Sendable, Equatable {
    /// `user_…`.
    public let id: String
    /// May be null.
    public let username: String?
    /// May be null.
    public let firstName: String?
    /// May be null.
    public let lastName: String?
    /// The profile image URL.
    public let imageUrl: String?
    /// The id of the primary entry in `emailAddresses`, or null.
    public let primaryEmailAddressId: String?
    /// All addresses.
    public let emailAddresses: [EmailAddress]
    /// Epoch ms.
    public let createdAt: Int64?
    /// Epoch ms: orders deliveries of the same user.
    public let updatedAt: Int64?

    /// One `EmailAddressJSON`.
    public struct EmailAddress: Decodable, Sendable, Equatable {
        /// `idn_…`.
        public let id: String
        /// The address.
        public let emailAddress: String

        enum CodingKeys: String, CodingKey {
            case id
            case emailAddress = "email_address"
        }
    }

    enum CodingKeys: String, CodingKey {
        case id, username
        case firstName = "first_name"
        case lastName = "last_name"
        case imageUrl = "image_url"
        case primaryEmailAddressId = "primary_email_address_id"
        case emailAddresses = "email_addresses"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        username = try c.decodeIfPresent(String.self, forKey: .username)
        firstName = try c.decodeIfPresent(String.self, forKey: .firstName)
        lastName = try c.decodeIfPresent(String.self, forKey: .lastName)
        imageUrl = try c.decodeIfPresent(String.self, forKey: .imageUrl)
        primaryEmailAddressId = try c.decodeIfPresent(String.self, forKey: .primaryEmailAddressId)
        emailAddresses = try c.decodeIfPresent([EmailAddress].self, forKey: .emailAddresses) ?? []
        createdAt = try c.decodeIfPresent(Int64.self, forKey: .createdAt)
        updatedAt = try c.decodeIfPresent(Int64.self, forKey: .updatedAt)
    }

    /// The primary address: the entry whose id is `primary_email_address_id` (not the first entry).
    public var primaryEmail: String? {
        guard let primary = primaryEmailAddressId else { return nil }
        return emailAddresses.first { $0.id == primary }?.emailAddress
    }
}

/// `DeletedObjectJSON`: `{"object":"user","id":"user_…","deleted":true}` (organizations add `slug`).
public struct ClerkDeletedObject: Decodable, Sendable {
    /// The deleted object's id.
    public let id: String
    /// Always true in practice.
    public let deleted: Bool?
    /// Organizations only.
    public let slug: String?
}

/// `organizationMembership.deleted`'s `data`: Clerk sends the whole membership; a bare `{object, id, deleted}`
/// is accepted too.
public enum ClerkMembershipDeletion: Decodable, Sendable {
    /// The whole membership, as Clerk sends it.
    case membership(ClerkMembership)
    /// Only the deleted object.
    case deleted(ClerkDeletedObject)

    public init(from decoder: any Decoder) throws {
        if let membership = try? ClerkMembership(from: decoder) {
            self = .membership(membership)
        } else {
            self = .deleted(try ClerkDeletedObject(from: decoder))
        }
    }

    /// `orgmem_…`.
    public var id: String {
        switch self {
        case .membership(let m): m.id
        case .deleted(let d): d.id
        }
    }
}
