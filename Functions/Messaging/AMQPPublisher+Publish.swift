import CRabbitMQ

#if canImport(Glibc)
    import Glibc
#endif

extension AMQPPublisher {
    /// One attempt of `publish`: connects and declares the queues if needed, publishes, and waits for the
    /// confirms until `deadline`. Any failure closes the connection, so the next attempt starts afresh.
    func publishOnce(_ messages: [AMQPMessage], deadline: Int64) throws(AMQPError) -> Int {
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
        let sent = send(messages, on: c)
        let (confirmed, failure) = awaitConfirms(on: c, firstTag: firstTag, count: sent, deadline: deadline)
        if failure != nil || sent < messages.count { close() }
        if confirmed == 0, let failure { throw .notConfirmed(failure) }
        if confirmed == 0 && sent < messages.count { throw .notConfirmed("publish failed") }
        return confirmed
    }

    /// Publishes `messages` in order on `c` until the first one the client cannot send; returns how many went.
    private func send(_ messages: [AMQPMessage], on c: amqp_connection_state_t) -> Int {
        var sent = 0
        for m in messages {
            guard basicPublish(m, on: c) == AMQP_STATUS_OK.rawValue else { break }
            sent += 1
            nextTag += 1
        }
        return sent
    }

    /// `basic.publish` of `m` to its queue through the default exchange: persistent JSON, with its message id
    /// and headers when it has them. Returns rabbitmq-c's status.
    private func basicPublish(_ m: AMQPMessage, on c: amqp_connection_state_t) -> Int32 {
        var props = amqp_basic_properties_t()
        props._flags = amqp_flags_t(AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_CONTENT_TYPE_FLAG)
        props.delivery_mode = 2  // persistent
        props.content_type = amqp_cstring_bytes("application/json")
        return (m.messageId ?? "").withCString { id in
            Self.withHeaderTable(m.headers) { table in
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
                    amqp_basic_publish(
                        c, channel, amqp_cstring_bytes(""), amqp_cstring_bytes(m.queue), 0, 0, &p,
                        amqp_bytes_t(len: body.count, bytes: UnsafeMutableRawPointer(mutating: body.baseAddress)))
                }
            }
        }
    }

    /// Reads the confirms of the `count` messages sent from tag `firstTag` until all are settled or `deadline`.
    /// Returns the leading run of acked messages, and why the wait stopped early, if it did.
    private func awaitConfirms(
        on c: amqp_connection_state_t, firstTag: UInt64, count: Int,
        deadline: Int64
    ) -> (confirmed: Int, failure: String?) {
        // A nack, a timeout or a closed channel ends the wait; what counts is the leading run of acks.
        var confirms = ConfirmTracker(firstTag: firstTag, count: count)
        while confirms.unsettled > 0 {
            let left = deadline - Self.nowMs()
            guard left > 0 else { return (confirms.confirmed, "no confirm before the deadline") }
            var frame = amqp_frame_t()
            let rc = clerk_amqp_wait_frame(c, &frame, Int32(min(Int64(timeoutMs), left)))
            guard rc == AMQP_STATUS_OK.rawValue else { return (confirms.confirmed, String(cString: amqp_error_string2(rc))) }
            guard frame.frame_type == UInt8(AMQP_FRAME_METHOD) else { continue }
            let method = frame.payload.method.id
            if method == AMQP_BASIC_ACK_METHOD, let ack = clerk_amqp_ack(&frame)?.pointee {
                confirms.ack(ack.delivery_tag, multiple: ack.multiple != 0)
            } else if method == AMQP_BASIC_NACK_METHOD {
                return (confirms.confirmed, "broker nacked a message")
            } else if method == AMQP_CHANNEL_CLOSE_METHOD || method == AMQP_CONNECTION_CLOSE_METHOD {
                return (confirms.confirmed, "broker closed the channel")
            }
        }
        return (confirms.confirmed, nil)
    }

    /// An AMQP field table of UTF-8 strings for `body`, valid only inside it (nil when there are no headers).
    static func withHeaderTable<R>(_ headers: [(name: String, value: String)], _ body: (amqp_table_t?) -> R) -> R {
        guard !headers.isEmpty else { return body(nil) }
        let keys = headers.map { strdup($0.name) }
        let values = headers.map { strdup($0.value) }
        defer { for copy in keys + values { free(copy) } }
        var entries = (0..<headers.count).map { i in
            var value = amqp_field_value_t()
            value.kind = UInt8(AMQP_FIELD_KIND_UTF8.rawValue)
            value.value.bytes = amqp_bytes_t(len: values[i].map { strlen($0) } ?? 0, bytes: UnsafeMutableRawPointer(values[i]))
            return amqp_table_entry_t(
                key: amqp_bytes_t(len: keys[i].map { strlen($0) } ?? 0, bytes: UnsafeMutableRawPointer(keys[i])),
                value: value)
        }
        return entries.withUnsafeMutableBufferPointer { buffer in
            body(amqp_table_t(num_entries: Int32(buffer.count), entries: buffer.baseAddress))
        }
    }
}
