import JSON
import ClerkKit
import FoundationEssentials
import LambdaRuntime
import Store

/// Gives a new user exactly one usable API key, delivered through the profile service.
///
/// Order, as in the system this replaces: the key's gateway mapping is recorded first (outbox, with the
/// pending key); a failure there prevents the profile call. A key becomes `active` only after the profile
/// service answered 2xx. A failed attempt leaves the key pending; the retry revokes it (publishing its
/// removal) and mints a fresh one, so there are never two usable keys, nor a usable key the profile
/// service never received. A 4xx is permanent: the key is revoked and the delivery is not retried.
struct APIKeyIssuer {
    let profile: ProfileServiceClient

    enum Outcome: String {
        case alreadyActive = "already_active"
        case issued
        case rejectedByProfileService = "rejected_by_profile_service"
        case userDeleted = "user_deleted"
    }

    /// Ensures the user has an active key; throws when a retry could help (database or profile service).
    func ensureKey(userId: UUID, change: UserChange, connection: PostgresConnection, context: Context) throws -> Outcome {
        let keys = APIKeyStore(connection: connection)
        if try keys.hasActiveKey(userId: userId) { return .alreadyActive }
        let key = APIKey.mint()
        guard try keys.replacePendingKey(userId: userId, clerkUserId: change.clerkUserId, keyHash: key.hash) else {
            return try keys.hasActiveKey(userId: userId) ? .alreadyActive : .userDeleted
        }
        let log = context.logger.with("keyHash", .string(String(key.hash.prefix(12))))
        let delivery = try profile.deliver(.init(
            clerk_user_id: change.clerkUserId, environment: change.environment, email: change.email,
            first_name: change.firstName, last_name: change.lastName, username: change.username,
            image_url: change.imageUrl, api_key: key.plaintext), remainingMs: context.remainingTimeMs)
        switch delivery {
        case .accepted:
            _ = try keys.activate(keyHash: key.hash)
            log.info("api key issued", ["clerkUserId": .string(change.clerkUserId)])
            return .issued
        case .rejected(let status):
            try keys.revoke(keyHash: key.hash)
            log.error("profile service rejected the user; key revoked", ["status": .int(Int64(status)),
                                                                        "clerkUserId": .string(change.clerkUserId)])
            return .rejectedByProfileService
        }
    }
}
