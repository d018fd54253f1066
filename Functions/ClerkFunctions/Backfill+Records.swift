import ClerkKit
import Store

extension Backfill {
    /// `items` as the store takes them: the decoded ones as records (through `record`), the refused ones set
    /// aside as `kind`.
    static func split<Resource, Record>(_ items: [ClerkListItem<Resource>], kind: BackfillSkip.Kind,
                                        record: (Resource, String) -> Record) -> (records: [Record], skips: [BackfillSkip]) {
        var records: [Record] = []
        var skips: [BackfillSkip] = []
        records.reserveCapacity(items.count)
        for item in items {
            switch item {
            case .decoded(let resource, let json): records.append(record(resource, json))
            case .refused(let refused): skips.append(skip(refused, kind: kind))
            }
        }
        return (records, skips)
    }

    /// A refused item, set aside as `kind`.
    static func skip(_ item: ClerkRefusedItem, kind: BackfillSkip.Kind) -> BackfillSkip {
        BackfillSkip(kind: kind, clerkId: item.id, reason: item.reason, detail: item.detail, body: item.json)
    }

    /// The stored form of one listed organization (NUL removed).
    static func record(_ org: ClerkOrganization, json: String) -> BackfillOrganization {
        BackfillOrganization(clerkOrgId: org.id, name: clean(org.name), slug: clean(org.slug), imageUrl: clean(org.imageUrl),
                             publicMetadataJSON: cleanJSON(org.publicMetadataJSON), rawJSON: cleanJSON(json),
                             createdAtMs: org.createdAt, updatedAtMs: org.updatedAt)
    }

    /// The stored form of one listed membership (NUL removed).
    static func record(_ m: ClerkMembership, json: String) -> BackfillMembership {
        BackfillMembership(clerkMembershipId: m.id, clerkUserId: m.userId, role: clean(m.role),
                           permissions: m.permissions.map { clean($0) ?? "" }, createdAtMs: m.createdAt, updatedAtMs: m.updatedAt,
                           rawJSON: cleanJSON(json))
    }

    /// The stored form of one listed user (NUL removed: PostgreSQL text cannot hold it).
    static func record(_ user: ClerkUser, json: String) -> BackfillUser {
        BackfillUser(clerkUserId: user.id, email: clean(user.primaryEmail), firstName: clean(user.firstName),
                     lastName: clean(user.lastName), username: clean(user.username), imageUrl: clean(user.imageUrl),
                     rawJSON: cleanJSON(json), createdAtMs: user.createdAt, updatedAtMs: user.updatedAt)
    }

    static func clean(_ s: String?) -> String? { s.map { PostgresText.removingNUL($0).text } }

    /// JSON without NUL, as the webhooks store it: an escaped backslash before `u0000` stays text (a plain
    /// replace of `\u0000` would eat that backslash and leave JSON PostgreSQL refuses, on every run).
    static func cleanJSON(_ json: String) -> String {
        let (bytes, removed) = PostgresText.removingNUL(fromJSON: Array(json.utf8))
        return removed == 0 ? json : String(decoding: bytes, as: UTF8.self)
    }
}
