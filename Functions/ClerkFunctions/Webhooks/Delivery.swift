/// One Clerk event whose origin was checked by its adapter (Svix signature, or an unsigned queue message the
/// configuration allows): the handler's whole input, whatever the host or envelope.
struct Delivery: Sendable {
    /// The Svix message id (or the queue's message id when unsigned): the deduplication key.
    var id: String
    /// `production` or `development`: the secret that verified it decides.
    var environment: String
    /// The event body as signed.
    var body: [UInt8]
    /// Where it came from.
    var source: DeliverySource
}
