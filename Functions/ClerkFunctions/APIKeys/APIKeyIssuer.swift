import ClerkKit
import JSON
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
struct APIKeyIssuer: Sendable {
    /// The keys' rows.
    let keys: any APIKeyRepository
    /// Where a new key goes.
    let profile: any ProfileDelivering

    enum Outcome: String {
        case alreadyActive = "already_active"
        case issued
        case rejectedByProfileService = "rejected_by_profile_service"
        case userDeleted = "user_deleted"
    }

    /// The delivery's outcome once the user it applied has their key: `applied` with the key's outcome, or a
    /// retryable failure (409 while another delivery holds the key; 502/503 when a service is away).
    func issue(
        userId: PostgresUUID, for change: UserChange, type: String, applied: AppliedChange, context: Context,
        logger log: Logger
    ) -> DeliveryOutcome {
        do {
            // Cleaned as the store cleaned it: the profile service and the key's mapping get what the row holds.
            let user = change.user.cleaned().record
            let outcome = try ensureKey(userId: userId, user: user, environment: change.environment, context: context)
            return .applied(type: type, applied, key: .userId, apiKey: outcome.rawValue)
        } catch let error as APIKeyConflict {
            log.warn("api key not issued", ["reason": "api_key_conflict", "detail": .string(error.reason)])
            return .failed(type: type, Failure(.apiKeyConflict, "another delivery is issuing this user's key; retry later"))
        } catch let error as ProfileServiceUnavailable {
            log.error("api key not delivered", ["reason": "profile_service_unavailable", "detail": .string(error.description)])
            return .failed(type: type, Failure(.profileServiceUnavailable, "the profile service is unavailable; the delivery will be retried"))
        } catch let error as PostgresError {
            log.error("api key not recorded", ["reason": "database_unavailable", "sqlState": .string(error.sqlState)])
            return .failed(type: type, Failure(.databaseUnavailable, "the database is unavailable; the delivery will be retried"))
        } catch {
            log.error("api key not issued", ["reason": "internal_error"])
            return .failed(type: type, Failure(.internalError, "the key could not be issued; the delivery will be retried"))
        }
    }

    /// Ensures the user has an active key; throws `APIKeyConflict` when another delivery holds the user's
    /// key or this one lost it, and other errors when a retry could help (database or profile service).
    func ensureKey(userId: PostgresUUID, user: UserRecord, environment: String, context: Context) throws -> Outcome {
        if try keys.hasActiveKey(userId: userId) { return .alreadyActive }
        let key = APIKey.mint()
        switch try keys.claimPendingKey(
            userId: userId, clerkUserId: user.clerkUserId, keyHash: key.hash,
            leaseMs: profile.leaseMs(remainingMs: context.remainingTimeMs))
        {
        case .claimed: break
        case .alreadyActive: return .alreadyActive
        case .userDeleted: return .userDeleted
        case .leased: throw APIKeyConflict(reason: "lease_held")
        }
        let log = context.logger.with("keyHash", .string(String(key.hash.prefix(12))))
        let delivery: ProfileDelivery
        do {
            delivery = try profile.deliver(
                .init(
                    clerk_user_id: user.clerkUserId, environment: environment, email: user.email,
                    first_name: user.firstName, last_name: user.lastName, username: user.username,
                    image_url: user.imageUrl, api_key: key.plaintext), remainingMs: context.remainingTimeMs,
                metrics: context.metrics)
        } catch let error as ProfileServiceUnavailable {
            // A service that answered is done with the key: the retry may replace it at once. After a
            // timeout it may still be storing it, so the lease runs out first.
            if error.answered { try? keys.releaseLease(keyHash: key.hash) }
            throw error
        }
        return try settle(delivery, key: key, clerkUserId: user.clerkUserId, log: log)
    }

    /// Activates the key the profile service took, or revokes the one it refused for good.
    private func settle(_ delivery: ProfileDelivery, key: APIKey, clerkUserId: String, log: Logger) throws -> Outcome {
        switch delivery {
        case .accepted:
            guard try keys.activate(keyHash: key.hash) else {
                log.warn(
                    "api key not activated: revoked or replaced while the profile service had it",
                    ["clerkUserId": .string(clerkUserId)])
                throw APIKeyConflict(reason: "activation_failed")
            }
            log.info("api key issued", ["clerkUserId": .string(clerkUserId)])
            return .issued
        case .rejected(let status):
            try keys.revoke(keyHash: key.hash)
            log.error(
                "profile service rejected the user; key revoked",
                [
                    "status": .int(Int64(status)),
                    "clerkUserId": .string(clerkUserId)
                ])
            return .rejectedByProfileService
        }
    }
}
