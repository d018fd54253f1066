import ClerkKit
import Store

// One mapping per Clerk resource: a Clerk user (organization, membership) becomes the store's record here and
// nowhere else, for webhooks, queue batches, the just-in-time fill and the backfill alike. Text is cleaned of
// NUL by the store, at its edge.

extension UserRecord {
    /// The record of `user`, whose UserJSON as Clerk sent it is `json`.
    init(_ user: ClerkUser, json: String) {
        self.init(
            clerkUserId: user.id, email: user.primaryEmail, firstName: user.firstName, lastName: user.lastName,
            username: user.username, imageUrl: user.imageUrl, rawJSON: json, createdAtMs: user.createdAt,
            updatedAtMs: user.updatedAt)
    }

    /// The record of a deleted user: its id, and the deleted object as sent.
    init(deleted: ClerkDeletedObject, json: String) {
        self.init(clerkUserId: deleted.id, rawJSON: json)
    }
}

extension OrganizationRecord {
    /// The record of `org`, whose OrganizationJSON as Clerk sent it is `json`.
    init(_ org: ClerkOrganization, json: String) {
        self.init(
            clerkOrgId: org.id, name: org.name, slug: org.slug, imageUrl: org.imageUrl,
            publicMetadataJSON: org.publicMetadataJSON, rawJSON: json, createdAtMs: org.createdAt, updatedAtMs: org.updatedAt)
    }

    /// The record of a deleted organization: its id and slug, and the deleted object as sent.
    init(deleted: ClerkDeletedObject, json: String) {
        self.init(clerkOrgId: deleted.id, slug: deleted.slug, rawJSON: json)
    }
}

extension MembershipRecord {
    /// The record of `m`, whose OrganizationMembershipJSON as Clerk sent it is `json`.
    init(_ m: ClerkMembership, json: String) {
        self.init(
            clerkMembershipId: m.id, clerkOrgId: m.organizationId, clerkUserId: m.userId, role: m.role,
            permissions: m.permissions, createdAtMs: m.createdAt, updatedAtMs: m.updatedAt, rawJSON: json)
    }

    /// The record of a deleted membership: the whole membership when Clerk sent it, else its id alone.
    init(_ deletion: ClerkMembershipDeletion, json: String) {
        switch deletion {
        case .membership(let m): self.init(m, json: json)
        case .deleted(let d): self.init(clerkMembershipId: d.id, rawJSON: json)
        }
    }
}
