import JSON
import ClerkKit
import LambdaRuntime
import Store

/// Another delivery of the same user is giving them a key right now, or this delivery's key was revoked
/// before it could be activated: answered 409 so that Svix comes back later, never "issued".
struct APIKeyConflict: Error, CustomStringConvertible {
    /// `lease_held` or `activation_failed`.
    let reason: String
    var description: String { reason }
}

/// Gives a new user exactly one usable API key, delivered through the profile service.
///
/// Order, as in the system this replaces: the key's gateway mapping is recorded first (outbox, with the
/// pending key); a failure there prevents the profile call. A key becomes `active` only after the profile
/// service answered 2xx. A failed attempt leaves the key pending; the retry revokes it (publishing its
/// removal) and mints a fresh one, so there are never two usable keys, nor a usable key the profile
/// service never received. A 4xx is permanent: the key is revoked and the delivery is not retried.
///
/// Overlapping deliveries (Svix retrying while the first is still waiting on the profile service) take
/// turns: the pending key is leased to its delivery for as long as its profile call can last, and a
/// delivery that finds a live lease gets `APIKeyConflict` instead of sending a second key that could
/// overtake the first at the profile service.
struct APIKeyIssuer {
    let profile: ProfileServiceClient

    enum Outcome: String {
        case alreadyActive = "already_active"
        case issued
        case rejectedByProfileService = "rejected_by_profile_service"
        case userDeleted = "user_deleted"
    }

    /// Ensures the user has an active key; throws `APIKeyConflict` when another delivery holds the user's
    /// key or this one lost it, and other errors when a retry could help (database or profile service).
    func ensureKey(userId: PostgresUUID, change: UserChange, connection: PostgresConnection, context: Context) throws -> Outcome {
        let keys = APIKeyStore(connection: connection)
        if try keys.hasActiveKey(userId: userId) { return .alreadyActive }
        let key = APIKey.mint()
        switch try keys.claimPendingKey(userId: userId, clerkUserId: change.clerkUserId, keyHash: key.hash,
                                        leaseMs: profile.leaseMs(remainingMs: context.remainingTimeMs)) {
        case .claimed: break
        case .alreadyActive: return .alreadyActive
        case .userDeleted: return .userDeleted
        case .leased: throw APIKeyConflict(reason: "lease_held")
        }
        let log = context.logger.with("keyHash", .string(String(key.hash.prefix(12))))
        let delivery: ProfileDelivery
        do {
            delivery = try profile.deliver(.init(
                clerk_user_id: change.clerkUserId, environment: change.environment, email: change.email,
                first_name: change.firstName, last_name: change.lastName, username: change.username,
                image_url: change.imageUrl, api_key: key.plaintext), remainingMs: context.remainingTimeMs)
        } catch let error as ProfileServiceUnavailable {
            // A service that answered is done with the key: the retry may replace it at once. After a
            // timeout it may still be storing it, so the lease runs out first.
            if error.answered { try? keys.releaseLease(keyHash: key.hash) }
            throw error
        }
        switch delivery {
        case .accepted:
            guard try keys.activate(keyHash: key.hash) else {
                log.warn("api key not activated: revoked or replaced while the profile service had it",
                         ["clerkUserId": .string(change.clerkUserId)])
                throw APIKeyConflict(reason: "activation_failed")
            }
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
