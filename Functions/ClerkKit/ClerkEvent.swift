import JSON

/// A Clerk webhook body: `{"type", "object", "data", "timestamp", "instance_id", "event_attributes"}`,
/// decoded in one pass: `type` decides what `data` is. Unknown fields are ignored.
public struct ClerkEvent: Decodable, Sendable {
    /// `user.created`, `user.updated`, `session.created`, ...
    public let type: String
    /// Envelope time, epoch milliseconds (delivered, though not in Clerk's SDK type).
    public let timestamp: Int64?
    /// `ins_…` (delivered, not in the SDK type).
    public let instanceId: String?
    /// The resource, typed for the events this project handles.
    public let payload: Payload

    /// What `data` holds.
    public enum Payload: Sendable {
        /// `user.created` and `user.updated`.
        case user(ClerkUser)
        /// `user.deleted`.
        case deleted(ClerkDeletedObject)
        /// `organization.created` and `organization.updated`.
        case organization(ClerkOrganization)
        /// `organization.deleted`: `{object, id, slug?, deleted}`.
        case organizationDeleted(ClerkDeletedObject)
        /// `organizationMembership.created|updated`, and `.deleted` when it carries the whole membership.
        case membership(ClerkMembership)
        /// `organizationMembership.deleted` carrying only `{object, id, deleted}`.
        case membershipDeleted(ClerkDeletedObject)
        /// Any other type: `data` is not read.
        case other
    }

    enum CodingKeys: String, CodingKey {
        case type, timestamp, data
        case instanceId = "instance_id"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        type = try c.decode(String.self, forKey: .type)
        timestamp = try c.decodeIfPresent(Int64.self, forKey: .timestamp)
        instanceId = try c.decodeIfPresent(String.self, forKey: .instanceId)
        switch type {
        case "user.created", "user.updated": payload = .user(try c.decode(ClerkUser.self, forKey: .data))
        case "user.deleted": payload = .deleted(try c.decode(ClerkDeletedObject.self, forKey: .data))
        case "organization.created", "organization.updated":
            payload = .organization(try c.decode(ClerkOrganization.self, forKey: .data))
        case "organization.deleted": payload = .organizationDeleted(try c.decode(ClerkDeletedObject.self, forKey: .data))
        case "organizationMembership.created", "organizationMembership.updated":
            payload = .membership(try c.decode(ClerkMembership.self, forKey: .data))
        case "organizationMembership.deleted":
            // Clerk sends the whole membership; a bare deleted object is accepted too.
            if let membership = try? c.decode(ClerkMembership.self, forKey: .data) {
                payload = .membership(membership)
            } else {
                payload = .membershipDeleted(try c.decode(ClerkDeletedObject.self, forKey: .data))
            }
        default: payload = .other
        }
    }
}

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

/// Reads Clerk events with one decoder made at init.
public struct ClerkEventDecoder: Sendable {
    private let decoder = JSONCoding.decoder

    /// Creates a decoder.
    public init() {}

    /// Decodes a webhook body.
    public func event(_ body: [UInt8]) throws -> ClerkEvent { try decoder.decode(ClerkEvent.self, from: body) }
}
