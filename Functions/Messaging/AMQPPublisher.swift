import CRabbitMQ

#if canImport(Glibc)
    import Glibc
#endif

/// An AMQP 0-9-1 connection (rabbitmq-c) with publisher confirms on one channel: durable queues,
/// persistent messages, and `publish` returns only what the broker acknowledged.
public final class AMQPPublisher {
    /// The open connection, nil until the first use and after `close`.
    var conn: amqp_connection_state_t?
    let channel: amqp_channel_t = 1
    /// Queues declared on this connection.
    var declared: Set<String> = []
    /// The delivery tag the broker gives the next message on this channel.
    var nextTag: UInt64 = 1
    let url: String
    let timeoutMs: Int
    let caFile: String?

    /// Prepares a publisher for `url` (`amqp://user:pass@host:port/vhost`, or `amqps://…`, port 5671 by
    /// default); connects on first use. TLS verifies the broker's certificate and host name against
    /// `caFile` (a PEM bundle), or the system bundle when nil.
    public init(url: String, timeoutMs: Int = 3000, caFile: String? = nil) {
        self.url = url
        self.timeoutMs = timeoutMs
        self.caFile = caFile
    }

    deinit { close() }

    /// Closes the connection (the next publish reconnects).
    public func close() {
        guard let c = conn else { return }
        _ = amqp_channel_close(c, channel, AMQP_REPLY_SUCCESS)
        _ = amqp_connection_close(c, AMQP_REPLY_SUCCESS)
        amqp_destroy_connection(c)
        conn = nil
        declared = []
        nextTag = 1
    }

    /// Publishes `messages` in order and waits for the broker's confirms. Returns how many leading
    /// messages were confirmed: everything before that index is safely stored by the broker, nothing
    /// after it may be assumed sent. Throws only when nothing at all could be sent. `budgetMs` bounds the
    /// whole call (connecting, publishing, confirms, one reconnect), within the caller's deadline.
    ///
    /// A warm process may hold a connection the broker has since dropped (a restart, an idle timeout):
    /// when a publish on an existing connection gets nothing confirmed, it reconnects and tries once more
    /// if the budget allows.
    public func publish(_ messages: [AMQPMessage], budgetMs: Int? = nil) throws(AMQPError) -> Int {
        let deadline = Self.nowMs() + Int64(max(1, budgetMs ?? timeoutMs * 3))
        guard conn != nil else { return try publishOnce(messages, deadline: deadline) }
        do {
            let confirmed = try publishOnce(messages, deadline: deadline)
            if confirmed > 0 || messages.isEmpty { return confirmed }
        } catch {}
        close()
        guard Self.nowMs() < deadline - 100 else { throw .notConfirmed("no time left to reconnect") }
        return try publishOnce(messages, deadline: deadline)
    }

    /// `timeoutMs`, or less when `deadline` is nearer (at least 1 ms: rabbitmq-c reads 0 as "no timeout").
    static func limit(_ timeoutMs: Int, _ deadline: Int64?) -> Int {
        guard let deadline else { return max(1, timeoutMs) }
        return Int(max(1, min(Int64(timeoutMs), deadline - nowMs())))
    }

    /// `ms` as the `timeval` rabbitmq-c's timeouts take.
    static func timeout(ms: Int) -> timeval {
        timeval(tv_sec: ms / 1000, tv_usec: (ms % 1000) * 1000)
    }

    static func nowMs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}
