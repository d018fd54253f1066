import ClerkKit
import FoundationEssentials
import LambdaRuntime
import Store

extension WebhookFunction {
    /// Applies a verified `organization.*` or `organizationMembership.*` event with the user rules
    /// (the database function dedupes, orders and keeps tombstones).
    func applyOrganization(_ clerkEvent: ClerkEvent, deliveryId: String, environment: String, rawBody: [UInt8],
                           logger log2: Logger) -> Applied {
        // PostgreSQL text cannot hold NUL (libpq would cut the value short, jsonb refuses `\u0000`).
        var strippedNul = false
        func clean(_ s: String?) -> String? {
            guard let s, s.contains("\u{0}") else { return s }
            strippedNul = true
            return s.replacingAll("\u{0}", with: "")
        }
        var body = String(decoding: rawBody, as: UTF8.self)
        if body.contains("\\u0000") {
            strippedNul = true
            body = body.replacingAll("\\u0000", with: "")
        }
        let store = OrganizationStore(connection: database.connection)
        let result: OrganizationSyncResult
        let key: String
        let subject: String
        do {
            switch clerkEvent.payload {
            case .organization(let org):
                subject = org.id
                key = "organizationId"
                result = try store.apply(OrganizationChange(
                    kind: clerkEvent.type == "organization.created" ? .created : .updated, deliveryId: deliveryId,
                    environment: environment, clerkOrgId: org.id, name: clean(org.name), slug: clean(org.slug),
                    imageUrl: clean(org.imageUrl), publicMetadataJSON: clean(org.publicMetadataJSON)?.replacingAll("\\u0000", with: ""),
                    createdAtMs: org.createdAt, updatedAtMs: org.updatedAt ?? clerkEvent.timestamp, rawBody: body))
            case .organizationDeleted(let deleted):
                subject = deleted.id
                key = "organizationId"
                result = try store.apply(OrganizationChange(kind: .deleted, deliveryId: deliveryId, environment: environment,
                                                            clerkOrgId: deleted.id, slug: clean(deleted.slug), rawBody: body))
            case .membership(let m):
                subject = m.id
                key = "membershipId"
                let kind: MembershipChange.Kind = switch clerkEvent.type {
                case "organizationMembership.created": .created
                case "organizationMembership.deleted": .deleted
                default: .updated
                }
                result = try store.apply(MembershipChange(
                    kind: kind, deliveryId: deliveryId, environment: environment, clerkMembershipId: m.id,
                    clerkOrgId: m.organizationId, clerkUserId: m.userId, role: clean(m.role),
                    permissions: m.permissions.map { clean($0) ?? $0 }, createdAtMs: m.createdAt,
                    updatedAtMs: m.updatedAt ?? clerkEvent.timestamp))
            case .membershipDeleted(let deleted):
                subject = deleted.id
                key = "membershipId"
                result = try store.apply(MembershipChange(kind: .deleted, deliveryId: deliveryId, environment: environment,
                                                          clerkMembershipId: deleted.id, clerkOrgId: nil, clerkUserId: nil))
            case .user, .deleted, .other:
                return .ignored(clerkEvent.type)
            }
        } catch {
            log2.error("webhook not applied", ["reason": error.isTransient ? "database_unavailable" : "database_error",
                                               "sqlState": .string(error.sqlState), "type": .string(clerkEvent.type)])
            return error.isTransient
                ? .retryable(code: "database_unavailable", message: "the database is unavailable; the delivery will be retried")
                : .failed(code: "internal_error", message: "the delivery could not be stored")
        }
        log2.info("webhook applied", ["type": .string(clerkEvent.type), "status": .string(result.status.rawValue),
                                      "clerkId": .string(subject), key: .string(result.id?.postgresText ?? ""),
                                      "nulStripped": .bool(strippedNul)])
        return .appliedOrganization(result, key: key)
    }
}
