import CRabbitMQ

extension AMQPPublisher {
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
        guard clerk_amqp_reply_ok(reply) == 1 else {
            close()
            throw .connectionFailed("basic.get failed")
        }
        guard reply.reply.id == AMQP_BASIC_GET_OK_METHOD else { return nil }
        var message = amqp_message_t()
        let read = amqp_read_message(c, channel, &message, 0)
        guard clerk_amqp_reply_ok(read) == 1 else {
            close()
            throw .connectionFailed("message read failed")
        }
        defer { amqp_destroy_message(&message) }
        var headers: [String: String] = [:]
        if message.properties._flags & amqp_flags_t(AMQP_BASIC_HEADERS_FLAG) != 0, let entries = message.properties.headers.entries {
            for i in 0..<Int(max(message.properties.headers.num_entries, 0)) {
                let e = entries[i]
                guard e.value.kind == UInt8(AMQP_FIELD_KIND_UTF8.rawValue) || e.value.kind == UInt8(AMQP_FIELD_KIND_BYTES.rawValue) else { continue }
                let key = String(decoding: UnsafeRawBufferPointer(start: e.key.bytes, count: e.key.len), as: UTF8.self)
                headers[key] = String(
                    decoding: UnsafeRawBufferPointer(start: e.value.value.bytes.bytes, count: e.value.value.bytes.len), as: UTF8.self)
            }
        }
        return (Array(UnsafeRawBufferPointer(start: message.body.bytes, count: message.body.len)), headers)
    }
}
