import CRabbitMQ
#if canImport(Glibc)
import Glibc
#endif

/// Why a message could not be published (or confirmed).
public enum AMQPError: Error, CustomStringConvertible, Sendable {
    /// `RABBITMQ_URL` is not an amqp:// or amqps:// URL.
    case invalidURL
    /// TCP connection, login, or channel setup failed.
    case connectionFailed(String)
    /// An `amqps://` broker could not be reached securely: no CA, an untrusted or misnamed certificate.
    case tls(String)
    /// The broker refused or did not confirm a publish in time (nothing is marked sent).
    case notConfirmed(String)

    public var description: String {
        switch self {
        case .invalidURL: "RABBITMQ_URL is not an amqp:// or amqps:// URL"
        case .connectionFailed(let why): "cannot reach RabbitMQ: \(why)"
        case .tls(let why): "cannot reach RabbitMQ over TLS: \(why)"
        case .notConfirmed(let why): "RabbitMQ did not confirm: \(why)"
        }
    }
}

/// One message to publish: a queue and a body.
public struct AMQPMessage: Sendable {
    /// The queue (published through the default exchange, so the routing key is the queue name).
    public var queue: String
    /// The body bytes (JSON here).
    public var body: [UInt8]
    /// The AMQP `message-id` property (the outbox id: consumers dedupe on it), when set.
    public var messageId: String?
    /// Application headers (string values), e.g. the trace id.
    public var headers: [(name: String, value: String)]
    /// Creates a message.
    public init(queue: String, body: [UInt8], messageId: String? = nil, headers: [(name: String, value: String)] = []) {
        self.queue = queue
        self.body = body
        self.messageId = messageId
        self.headers = headers
    }
}

/// An AMQP 0-9-1 connection (rabbitmq-c) with publisher confirms on one channel: durable queues,
/// persistent messages, and `publish` returns only what the broker acknowledged.
public final class AMQPPublisher {
    private var conn: amqp_connection_state_t?
    private let channel: amqp_channel_t = 1
    private var declared: Set<String> = []
    private var nextTag: UInt64 = 1
    private let url: String
    private let timeoutMs: Int
    private let caFile: String?

    /// Where Linux distributions keep the system's CA bundle (Debian/Ubuntu, Amazon Linux/Fedora, Alpine/others).
    public static let systemCABundles = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"]

    /// Prepares a publisher for `url` (`amqp://user:pass@host:port/vhost`, or `amqps://…`, port 5671 by
    /// default); connects on first use. TLS verifies the broker's certificate and host name against
    /// `caFile` (a PEM bundle), or the system bundle when nil.
    public init(url: String, timeoutMs: Int = 3000, caFile: String? = nil) {
        self.url = url
        self.timeoutMs = timeoutMs
        self.caFile = caFile
    }

    deinit { close() }

    /// An AMQP field table of UTF-8 strings for `body`, valid only inside it (nil when there are no headers).
    static func withHeaderTable<R>(_ headers: [(name: String, value: String)], _ body: (amqp_table_t?) -> R) -> R {
        guard !headers.isEmpty else { return body(nil) }
        let keys = headers.map { strdup($0.name) }
        let values = headers.map { strdup($0.value) }
        defer { (keys + values).forEach { free($0) } }
        var entries = (0..<headers.count).map { i in
            var value = amqp_field_value_t()
            value.kind = UInt8(AMQP_FIELD_KIND_UTF8.rawValue)
            value.value.bytes = amqp_bytes_t(len: values[i].map { strlen($0) } ?? 0, bytes: UnsafeMutableRawPointer(values[i]))
            return amqp_table_entry_t(key: amqp_bytes_t(len: keys[i].map { strlen($0) } ?? 0, bytes: UnsafeMutableRawPointer(keys[i])),
                                      value: value)
        }
        return entries.withUnsafeMutableBufferPointer { buffer in
            body(amqp_table_t(num_entries: Int32(buffer.count), entries: buffer.baseAddress))
        }
    }

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

    /// Connects unless connected. Opening the socket, the TLS handshake, login, channel and confirm mode
    /// each wait at most the smaller of `timeoutMs` and what is left before `deadline`, so a broker that
    /// accepts and then stalls cannot hold a relay past its budget.
    private func connect(deadline: Int64? = nil) throws(AMQPError) {
        if conn != nil { return }
        let limitMs = Self.limit(timeoutMs, deadline)
        // amqp_parse_url points `info` into the string it parses: keep every use inside its lifetime.
        var copy = Array(url.utf8CString)
        let result: Result<amqp_connection_state_t, AMQPError> = copy.withUnsafeMutableBufferPointer { buffer in
            var info = amqp_connection_info()
            guard amqp_parse_url(buffer.baseAddress, &info) == AMQP_STATUS_OK.rawValue else { return .failure(.invalidURL) }
            guard let c = amqp_new_connection() else { return .failure(.connectionFailed("out of memory")) }
            let tls = info.ssl != 0
            let socket: OpaquePointer?
            var ca = ""
            if tls {
                // amqps: rabbitmq-c's OpenSSL socket, the peer verified against the CA and its name against the host.
                guard let found = caFile ?? Self.systemCABundles.first(where: { access($0, R_OK) == 0 }) else {
                    amqp_destroy_connection(c)
                    return .failure(.tls("no CA bundle found (looked in \(Self.systemCABundles.joined(separator: ", "))); set RABBITMQ_CA_FILE"))
                }
                ca = found
                socket = amqp_ssl_socket_new(c)
                if let socket {
                    guard amqp_ssl_socket_set_cacert(socket, ca) == AMQP_STATUS_OK.rawValue else {
                        amqp_destroy_connection(c)
                        return .failure(.tls("cannot read CA certificates from \(ca)"))
                    }
                    amqp_ssl_socket_set_verify_peer(socket, 1)
                    amqp_ssl_socket_set_verify_hostname(socket, 1)
                }
            } else {
                socket = amqp_tcp_socket_new(c)
            }
            guard let socket else {
                amqp_destroy_connection(c)
                return .failure(.connectionFailed("cannot create a socket"))
            }
            var tv = timeval(tv_sec: limitMs / 1000, tv_usec: (limitMs % 1000) * 1000)
            let opened = amqp_socket_open_noblock(socket, info.host, info.port, &tv)
            guard opened == AMQP_STATUS_OK.rawValue else {
                amqp_destroy_connection(c)
                let why = String(cString: amqp_error_string2(opened))
                let host = info.host.map { String(cString: $0) } ?? ""
                switch opened {
                case AMQP_STATUS_SSL_PEER_VERIFY_FAILED.rawValue, AMQP_STATUS_SSL_CONNECTION_FAILED.rawValue:
                    return .failure(.tls("the TLS handshake with \(host):\(info.port) failed (\(why)): is its certificate signed by a CA in \(ca)?"))
                case AMQP_STATUS_SSL_HOSTNAME_VERIFY_FAILED.rawValue:
                    return .failure(.tls("the broker's certificate does not name \(host) (\(why))"))
                case AMQP_STATUS_SSL_ERROR.rawValue:
                    return .failure(.tls("\(why) with \(host):\(info.port)"))
                default:
                    return .failure(.connectionFailed(why))
                }
            }
            // rabbitmq-c's login has its own clock (12 s by default), apart from the RPC timeout.
            _ = amqp_set_handshake_timeout(c, &tv)
            _ = amqp_set_rpc_timeout(c, &tv)
            // "amqp://host/" names the empty vhost by the URI rules; nobody means that: use the default "/".
            let vhost = (info.vhost == nil || info.vhost.pointee == 0) ? "/" : String(cString: info.vhost)
            let login = clerk_amqp_login_plain(c, vhost, info.user, info.password, 0)
            guard clerk_amqp_reply_ok(login) == 1 else {
                amqp_destroy_connection(c)
                return .failure(.connectionFailed("login refused"))
            }
            return .success(c)
        }
        let c: amqp_connection_state_t
        switch result {
        case .success(let made): c = made
        case .failure(let error): throw error
        }
        _ = amqp_channel_open(c, channel)
        guard clerk_amqp_reply_ok(amqp_get_rpc_reply(c)) == 1 else {
            amqp_destroy_connection(c)
            throw .connectionFailed("channel refused")
        }
        _ = amqp_confirm_select(c, channel)
        guard clerk_amqp_reply_ok(amqp_get_rpc_reply(c)) == 1 else {
            amqp_destroy_connection(c)
            throw .connectionFailed("publisher confirms refused")
        }
        conn = c
    }

    private func declare(_ queue: String, deadline: Int64? = nil) throws(AMQPError) {
        guard let c = conn, !declared.contains(queue) else { return }
        // A warm connection keeps the RPC timeout it was opened with: bound this call by the budget left now.
        let limitMs = Self.limit(timeoutMs, deadline)
        var tv = timeval(tv_sec: limitMs / 1000, tv_usec: (limitMs % 1000) * 1000)
        _ = amqp_set_rpc_timeout(c, &tv)
        _ = amqp_queue_declare(c, channel, amqp_cstring_bytes(queue), 0, 1, 0, 0, amqp_empty_table)
        guard clerk_amqp_reply_ok(amqp_get_rpc_reply(c)) == 1 else {
            close()
            throw .connectionFailed("queue \(queue) could not be declared")
        }
        declared.insert(queue)
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
    private static func limit(_ timeoutMs: Int, _ deadline: Int64?) -> Int {
        guard let deadline else { return max(1, timeoutMs) }
        return Int(max(1, min(Int64(timeoutMs), deadline - nowMs())))
    }

    private static func nowMs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    private func publishOnce(_ messages: [AMQPMessage], deadline: Int64) throws(AMQPError) -> Int {
        guard !messages.isEmpty else { return 0 }
        do {
            try connect(deadline: deadline)
            for q in Set(messages.map(\.queue)) { try declare(q, deadline: deadline) }
        } catch {
            close()
            throw error
        }
        guard let c = conn else { return 0 }
        let firstTag = nextTag
        var sent = 0
        for m in messages {
            var props = amqp_basic_properties_t()
            props._flags = amqp_flags_t(AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_CONTENT_TYPE_FLAG)
            props.delivery_mode = 2  // persistent
            props.content_type = amqp_cstring_bytes("application/json")
            let rc = (m.messageId ?? "").withCString { id in Self.withHeaderTable(m.headers) { table in
                var p = props
                if m.messageId != nil {
                    p._flags |= amqp_flags_t(AMQP_BASIC_MESSAGE_ID_FLAG)
                    p.message_id = amqp_cstring_bytes(id)
                }
                if let table {
                    p._flags |= amqp_flags_t(AMQP_BASIC_HEADERS_FLAG)
                    p.headers = table
                }
                return m.body.withUnsafeBytes { body in
                    amqp_basic_publish(c, channel, amqp_cstring_bytes(""), amqp_cstring_bytes(m.queue), 0, 0, &p,
                                       amqp_bytes_t(len: body.count, bytes: UnsafeMutableRawPointer(mutating: body.baseAddress)))
                }
            } }
            if rc != AMQP_STATUS_OK.rawValue { break }
            sent += 1
            nextTag += 1
        }
        // A nack, a timeout or a closed channel ends the wait; what counts is the leading run of acks.
        var confirms = ConfirmTracker(firstTag: firstTag, count: sent)
        var failure: String?
        while confirms.unsettled > 0 {
            let left = deadline - Self.nowMs()
            guard left > 0 else {
                failure = "no confirm before the deadline"
                break
            }
            var frame = amqp_frame_t()
            let rc = clerk_amqp_wait_frame(c, &frame, Int32(min(Int64(timeoutMs), left)))
            if rc != AMQP_STATUS_OK.rawValue {
                failure = String(cString: amqp_error_string2(rc))
                break
            }
            guard frame.frame_type == UInt8(AMQP_FRAME_METHOD) else { continue }
            let method = frame.payload.method.id
            if method == AMQP_BASIC_ACK_METHOD, let ack = clerk_amqp_ack(&frame)?.pointee {
                confirms.ack(ack.delivery_tag, multiple: ack.multiple != 0)
            } else if method == AMQP_BASIC_NACK_METHOD {
                failure = "broker nacked a message"
                break
            } else if method == AMQP_CHANNEL_CLOSE_METHOD || method == AMQP_CONNECTION_CLOSE_METHOD {
                failure = "broker closed the channel"
                break
            }
        }
        let confirmed = confirms.confirmed
        if failure != nil || sent < messages.count { close() }
        if confirmed == 0, let failure { throw .notConfirmed(failure) }
        if confirmed == 0 && sent < messages.count { throw .notConfirmed("publish failed") }
        return confirmed
    }

    /// Takes one message from `queue` (basic.get with ack), for tests and tools; nil when empty.
    public func get(_ queue: String) throws(AMQPError) -> [UInt8]? {
        try getWithHeaders(queue)?.body
    }

    /// One message from `queue` with its string headers (tests check the trace header with it); nil when empty.
    public func getWithHeaders(_ queue: String) throws(AMQPError) -> (body: [UInt8], headers: [String: String])? {
        try connect()
        try declare(queue)
        guard let c = conn else { return nil }
        let reply = amqp_basic_get(c, channel, amqp_cstring_bytes(queue), 1)
        guard clerk_amqp_reply_ok(reply) == 1 else { close(); throw .connectionFailed("basic.get failed") }
        guard reply.reply.id == AMQP_BASIC_GET_OK_METHOD else { return nil }
        var message = amqp_message_t()
        let read = amqp_read_message(c, channel, &message, 0)
        guard clerk_amqp_reply_ok(read) == 1 else { close(); throw .connectionFailed("message read failed") }
        defer { amqp_destroy_message(&message) }
        var headers: [String: String] = [:]
        if message.properties._flags & amqp_flags_t(AMQP_BASIC_HEADERS_FLAG) != 0, let entries = message.properties.headers.entries {
            for i in 0..<Int(max(message.properties.headers.num_entries, 0)) {
                let e = entries[i]
                guard e.value.kind == UInt8(AMQP_FIELD_KIND_UTF8.rawValue) || e.value.kind == UInt8(AMQP_FIELD_KIND_BYTES.rawValue) else { continue }
                let key = String(decoding: UnsafeRawBufferPointer(start: e.key.bytes, count: e.key.len), as: UTF8.self)
                headers[key] = String(decoding: UnsafeRawBufferPointer(start: e.value.value.bytes.bytes, count: e.value.value.bytes.len), as: UTF8.self)
            }
        }
        return (Array(UnsafeRawBufferPointer(start: message.body.bytes, count: message.body.len)), headers)
    }
}
