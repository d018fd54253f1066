/// A delivery PostgreSQL refused for its data (SQLSTATE class 22): recorded as `rejected`, so a redelivery is a
/// duplicate, with its body kept in `queue_rejects` for a person to look at. Users and organizations alike.
public struct DeliveryRejection {
    private let connection: PostgresConnection

    /// Uses `connection`.
    public init(connection: PostgresConnection) { self.connection = connection }

    /// Records the rejection once per delivery id and environment; NUL is removed from what is stored.
    public func record(
        deliveryId: String, environment: String, eventType: String, clerkUserId: String?,
        source: String, reason: String, rawBody: String
    ) throws(PostgresError) {
        try connection.query(
            """
            WITH d AS (
                INSERT INTO webhook_deliveries (svix_id, environment, event_type, clerk_user_id, outcome, processed_at)
                VALUES ($1, $2, $3, $4, 'rejected', now())
                ON CONFLICT (svix_id, environment) DO NOTHING RETURNING svix_id)
            INSERT INTO queue_rejects (source, message_id, reason, body)
            SELECT $5, svix_id, $6, $7 FROM d
            ON CONFLICT (source, message_id, reason, md5(body)) DO NOTHING
            """,
            [
                clean(deliveryId), clean(environment), clean(eventType), clerkUserId.map(clean), clean(source), clean(reason),
                clean(rawBody)
            ])
    }

    /// Keeps a queued message that never became a delivery (no signature, not JSON, not an event) in
    /// `queue_rejects` for a person to look at, once: the same message (source, id, reason and body) refused
    /// again, by a redelivery or by two relays at once, adds nothing (migration 12). NUL is removed, since
    /// `text` cannot hold it and the body would otherwise be lost with the refused insert.
    public func keep(source: String, messageId: String, reason: String, body: [UInt8]) throws(PostgresError) {
        try connection.query(
            """
            INSERT INTO queue_rejects (source, message_id, reason, body) VALUES ($1, $2, $3, $4)
            ON CONFLICT (source, message_id, reason, md5(body)) DO NOTHING
            """, [clean(source), clean(messageId), clean(reason), clean(String(decoding: body, as: UTF8.self))])
    }

    private func clean(_ s: String) -> String { s.contains("\u{0}") ? String(s.unicodeScalars.filter { $0 != "\u{0}" }) : s }
}
