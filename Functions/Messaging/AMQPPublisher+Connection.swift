import CRabbitMQ

#if canImport(Glibc)
    import Glibc
#endif

extension AMQPPublisher {
    /// Connects unless connected. Opening the socket, the TLS handshake, login, channel and confirm mode
    /// each wait at most the smaller of `timeoutMs` and what is left before `deadline`, so a broker that
    /// accepts and then stalls cannot hold a relay past its budget.
    func connect(deadline: Int64? = nil) throws(AMQPError) {
        if conn != nil { return }
        let limitMs = Self.limit(timeoutMs, deadline)
        // amqp_parse_url points `info` into the string it parses: keep every use inside its lifetime.
        var copy = Array(url.utf8CString)
        let result: Result<amqp_connection_state_t, AMQPError> = copy.withUnsafeMutableBufferPointer { buffer in
            var info = amqp_connection_info()
            guard amqp_parse_url(buffer.baseAddress, &info) == AMQP_STATUS_OK.rawValue else { return .failure(.invalidURL) }
            guard let c = amqp_new_connection() else { return .failure(.connectionFailed("out of memory")) }
            do throws(AMQPError) {
                try logIn(c, info: info, limitMs: limitMs)
                try openConfirmedChannel(c)
                return .success(c)
            } catch {
                // Whichever step failed, the half-made connection goes here, and only here.
                amqp_destroy_connection(c)
                return .failure(error)
            }
        }
        switch result {
        case .success(let c): conn = c
        case .failure(let error): throw error
        }
    }

    /// Opens the socket to `info`'s host, sets the login and RPC timeouts, and logs in.
    private func logIn(_ c: amqp_connection_state_t, info: amqp_connection_info, limitMs: Int) throws(AMQPError) {
        let (socket, ca) = try makeSocket(c, tls: info.ssl != 0)
        var tv = Self.timeout(ms: limitMs)
        let opened = amqp_socket_open_noblock(socket, info.host, info.port, &tv)
        guard opened == AMQP_STATUS_OK.rawValue else {
            throw Self.openError(opened, host: info.host.map { String(cString: $0) } ?? "", port: info.port, ca: ca)
        }
        // rabbitmq-c's login has its own clock (12 s by default), apart from the RPC timeout.
        _ = amqp_set_handshake_timeout(c, &tv)
        _ = amqp_set_rpc_timeout(c, &tv)
        // "amqp://host/" names the empty vhost by the URI rules; nobody means that: use the default "/".
        let vhost = (info.vhost == nil || info.vhost.pointee == 0) ? "/" : String(cString: info.vhost)
        let login = clerk_amqp_login_plain(c, vhost, info.user, info.password, 0)
        guard clerk_amqp_reply_ok(login) == 1 else { throw .connectionFailed("login refused") }
    }

    /// A plain TCP socket on `c`, or for amqps rabbitmq-c's OpenSSL socket, the peer verified against the CA
    /// and its name against the host; with the CA bundle it trusts (empty for TCP), for the error text.
    private func makeSocket(_ c: amqp_connection_state_t, tls: Bool) throws(AMQPError) -> (socket: OpaquePointer, ca: String) {
        guard tls else {
            guard let socket = amqp_tcp_socket_new(c) else { throw .connectionFailed("cannot create a socket") }
            return (socket, "")
        }
        // The caller finds the bundle (HTTPClient's `CABundle`, the one list of the system's places).
        guard let ca = caFile else { throw .tls("no CA bundle found; set RABBITMQ_CA_FILE") }
        guard let socket = amqp_ssl_socket_new(c) else { throw .connectionFailed("cannot create a socket") }
        guard amqp_ssl_socket_set_cacert(socket, ca) == AMQP_STATUS_OK.rawValue else {
            throw .tls("cannot read CA certificates from \(ca)")
        }
        amqp_ssl_socket_set_verify_peer(socket, 1)
        amqp_ssl_socket_set_verify_hostname(socket, 1)
        return (socket, ca)
    }

    /// Why `amqp_socket_open_noblock` returned `status`: a TLS failure names the host and the CA it was checked against.
    private static func openError(_ status: Int32, host: String, port: Int32, ca: String) -> AMQPError {
        let why = String(cString: amqp_error_string2(status))
        switch status {
        case AMQP_STATUS_SSL_PEER_VERIFY_FAILED.rawValue, AMQP_STATUS_SSL_CONNECTION_FAILED.rawValue:
            return .tls("the TLS handshake with \(host):\(port) failed (\(why)): is its certificate signed by a CA in \(ca)?")
        case AMQP_STATUS_SSL_HOSTNAME_VERIFY_FAILED.rawValue:
            return .tls("the broker's certificate does not name \(host) (\(why))")
        case AMQP_STATUS_SSL_ERROR.rawValue:
            return .tls("\(why) with \(host):\(port)")
        default:
            return .connectionFailed(why)
        }
    }

    /// Opens the publishing channel on `c` and puts it in confirm mode.
    private func openConfirmedChannel(_ c: amqp_connection_state_t) throws(AMQPError) {
        _ = amqp_channel_open(c, channel)
        guard clerk_amqp_reply_ok(amqp_get_rpc_reply(c)) == 1 else { throw .connectionFailed("channel refused") }
        _ = amqp_confirm_select(c, channel)
        guard clerk_amqp_reply_ok(amqp_get_rpc_reply(c)) == 1 else { throw .connectionFailed("publisher confirms refused") }
    }

    /// Declares `queue` (durable) once per connection.
    func declare(_ queue: String, deadline: Int64? = nil) throws(AMQPError) {
        guard let c = conn, !declared.contains(queue) else { return }
        // A warm connection keeps the RPC timeout it was opened with: bound this call by the budget left now.
        var tv = Self.timeout(ms: Self.limit(timeoutMs, deadline))
        _ = amqp_set_rpc_timeout(c, &tv)
        _ = amqp_queue_declare(c, channel, amqp_cstring_bytes(queue), 0, 1, 0, 0, amqp_empty_table)
        guard clerk_amqp_reply_ok(amqp_get_rpc_reply(c)) == 1 else {
            close()
            throw .connectionFailed("queue \(queue) could not be declared")
        }
        declared.insert(queue)
    }
}
