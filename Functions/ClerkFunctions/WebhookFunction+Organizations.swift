import ClerkKit
import LambdaRuntime
import Store

extension WebhookFunction {
    /// Applies a verified `organization.*` or `organizationMembership.*` event with the user rules
    /// (the database function dedupes, orders and keeps tombstones).
    func applyOrganization(_ clerkEvent: ClerkEvent, deliveryId: String, environment: String, rawBody: [UInt8],
                           source: String, logger log2: Logger) -> Applied {
        // NUL was removed from the verified body before it was decoded (WebhookFunction), as for users.
        let body = String(decoding: rawBody, as: UTF8.self)
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
                    environment: environment, clerkOrgId: org.id, name: org.name, slug: org.slug,
                    imageUrl: org.imageUrl, publicMetadataJSON: org.publicMetadataJSON,
                    createdAtMs: org.createdAt, updatedAtMs: org.updatedAt ?? clerkEvent.timestamp, rawBody: body))
            case .organizationDeleted(let deleted):
                subject = deleted.id
                key = "organizationId"
                result = try store.apply(OrganizationChange(kind: .deleted, deliveryId: deliveryId, environment: environment,
                                                            clerkOrgId: deleted.id, slug: deleted.slug, rawBody: body))
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
                    clerkOrgId: m.organizationId, clerkUserId: m.userId, role: m.role,
                    permissions: m.permissions, createdAtMs: m.createdAt,
                    updatedAtMs: m.updatedAt ?? clerkEvent.timestamp))
            case .membershipDeleted(let deleted):
                subject = deleted.id
                key = "membershipId"
                result = try store.apply(MembershipChange(kind: .deleted, deliveryId: deliveryId, environment: environment,
                                                          clerkMembershipId: deleted.id, clerkOrgId: nil, clerkUserId: nil))
            case .user, .deleted, .other:
                return .ignored(clerkEvent.type)
            }
        } catch .query(let sqlState, _) where sqlState.hasPrefix("22") {
            // The data itself was refused: the same on every retry, so record it and answer 200 (as for users).
            return reject(deliveryId: deliveryId, environment: environment, eventType: clerkEvent.type, clerkUserId: nil,
                          rawBody: body, sqlState: sqlState, source: source, logger: log2)
        } catch {
            log2.error("webhook not applied", ["reason": error.isTransient ? "database_unavailable" : "database_error",
                                               "sqlState": .string(error.sqlState), "type": .string(clerkEvent.type)])
            return Self.storeFailure(error)
        }
        log2.info("webhook applied", ["type": .string(clerkEvent.type), "status": .string(result.status.rawValue),
                                      "clerkId": .string(subject), key: .string(result.id?.postgresText ?? "")])
        return .appliedOrganization(result, key: key)
    }
}
