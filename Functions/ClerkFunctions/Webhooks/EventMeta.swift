/// What a store change needs besides the Clerk resource itself: which delivery brought it, for which
/// instance, the resource's JSON as Clerk sent it, and the envelope's time.
struct EventMeta: Sendable {
    /// The delivery id (`svix-id`, or the queue's message id): the deduplication key.
    var deliveryId: String
    /// `production` or `development`: the secret that verified the delivery decides.
    var environment: String
    /// The event's `data` as Clerk sent it (stored as `raw_payload`).
    var dataJSON: String
    /// The envelope's `timestamp` (epoch ms): orders versions when the resource has no `updated_at`.
    var timestamp: Int64?
}
