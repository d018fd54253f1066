import CKafka

#if canImport(Glibc)
    import Glibc
#endif

/// A Kafka producer (librdkafka) with idempotence and `acks=all`: `publish` returns only what every in-sync
/// replica acknowledged, through librdkafka's delivery reports. Made once per warm container; librdkafka
/// keeps its own connections and reconnects in the background.
public final class KafkaPublisher {
    private let options: Options
    private var producer: OpaquePointer?
    private let state: UnsafeMutablePointer<clerk_kafka_state>
    /// What the last `publish` that fell short was told (also when part of a batch went out).
    public private(set) var lastError: String?
    /// The class of the error the last `publish` stopped at (nil when it delivered everything): `.message` when
    /// Kafka refuses that one message for good, confirmed on the message alone; an outage otherwise.
    public private(set) var lastStop: KafkaErrorClass?
    /// The messages (indexes, ascending, anywhere in the batch) the last `publish` did not deliver and must never send
    /// again in this order: a later message of the same topic and key reached the broker before them (a record batch
    /// holding them was refused while a later one was taken), so, sent now, they would land after it and consumers
    /// would end in their state, not the key's last one. The caller sets their rows aside, to go out again behind
    /// that later message (`outbox requeue`).
    public private(set) var lastOvertaken: [Int] = []

    /// Checks the options by making the producer (librdkafka connects in the background, on first use).
    public init(options: Options) throws(KafkaError) {
        self.options = options
        state = .allocate(capacity: 1)
        state.initialize(to: clerk_kafka_state())
        producer = try makeProducer()
    }

    deinit {
        if let p = producer {
            _ = rd_kafka_purge(p, Int32(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT))
            rd_kafka_destroy(p)
        }
        // Callbacks only run inside rd_kafka_poll/destroy on this thread, so the state outlives them.
        state.deallocate()
    }

    private func makeProducer() throws(KafkaError) -> OpaquePointer {
        guard let conf = rd_kafka_conf_new() else { throw .clientFailed("out of memory") }
        var settings: [(String, String)] = [
            ("bootstrap.servers", options.brokers),
            ("client.id", options.clientId),
            ("enable.idempotence", "true"),
            ("acks", "all"),
            ("linger.ms", "2"),
            // librdkafka fails a message itself after this long, so a batch never waits on a dead cluster
            // beyond the caller's budget (the caller also purges at its own deadline).
            ("message.timeout.ms", String(max(options.timeoutMs, 100))),
            ("socket.connection.setup.timeout.ms", String(max(options.timeoutMs, 1000))),
            // A Lambda container only runs during invocations: after a broker outage, try again within a
            // second rather than librdkafka's default of up to ten.
            ("reconnect.backoff.max.ms", "1000"),
            ("security.protocol", options.securityProtocol.lowercased())
        ]
        if let mechanism = options.saslMechanism { settings.append(("sasl.mechanism", mechanism)) }
        if let user = options.username { settings.append(("sasl.username", user)) }
        if let password = options.password { settings.append(("sasl.password", password)) }
        if let ca = options.caFile { settings.append(("ssl.ca.location", ca)) }
        var message = [CChar](repeating: 0, count: 512)
        for (name, value) in settings {
            let result = rd_kafka_conf_set(conf, name, value, &message, message.count)
            guard result == RD_KAFKA_CONF_OK else {
                rd_kafka_conf_destroy(conf)
                // librdkafka's message names the setting; a value (a password) is never part of it.
                throw .invalidConfiguration(name == "sasl.password" ? "sasl.password" : "\(name): \(Self.text(message))")
            }
        }
        clerk_kafka_conf_callbacks(conf, state)
        // rd_kafka_new takes the configuration over on success only.
        guard let p = rd_kafka_new(RD_KAFKA_PRODUCER, conf, &message, message.count) else {
            rd_kafka_conf_destroy(conf)
            throw .clientFailed(Self.text(message))
        }
        return p
    }

    private static func text(_ buffer: [CChar]) -> String {
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func nowMs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    /// Produces `messages` in order and waits (up to `timeoutMs`, or the options' timeout) for their delivery
    /// reports. Returns how many leading messages were delivered: everything before that index is stored by
    /// the cluster, except the messages `lastOvertaken` names (never sent again); nothing after it may be assumed
    /// sent (it may still arrive: consumers dedupe on the outbox id header). Throws only when none was delivered.
    ///
    /// A refusal of one message for what it is (`KafkaErrorClass.message`) that came back for a record batch holding
    /// others is checked message by message: the broker refuses a whole batch when one message in it is too large,
    /// or when the topic's `max.message.bytes` is below the batch, and only a message refused alone is refused for good.
    public func publish(_ messages: [KafkaMessage], timeoutMs: Int? = nil) throws(KafkaError) -> Int {
        guard !messages.isEmpty else { return 0 }
        lastError = nil
        lastStop = nil
        lastOvertaken = []
        let deadline = Self.nowMs() + Int64(max(1, min(timeoutMs ?? options.timeoutMs, options.timeoutMs)))
        var attempt = try send(messages[...], deadline: deadline)
        let overtaken = Self.overtaken(messages, delivered: attempt.deliveredAt)
        lastOvertaken = overtaken
        if attempt.stop.map(KafkaErrorClass.of) == .message, attempt.sharedBatch {
            attempt = sendAlone(messages, from: attempt, overtaken: Set(overtaken), deadline: deadline)
        }
        guard attempt.delivered < messages.count else { return attempt.delivered }
        let stop = attempt.stop.map(KafkaErrorClass.of) ?? .outage(.other)
        // A refusal an error callback explains better (a timeout after SASL failed) is counted by that reason.
        if case .outage(let outage) = stop, outage == .timeout || outage == .other, let code = attempt.clientError,
            case .outage(let cause) = KafkaErrorClass.of(code), cause != .other
        {
            lastStop = .outage(cause)
        } else {
            lastStop = stop
        }
        if case .outage(let outage)? = lastStop, outage == .topic || outage == .authorization, let p = producer {
            // librdkafka keeps a topic's error until its next metadata refresh (5 minutes): a fresh producer sees a
            // fixed ACL or a created topic at the next relay.
            rd_kafka_destroy(p)
            producer = nil
        }
        let why = attempt.reasons.isEmpty ? "not every message was acknowledged" : attempt.reasons.joined(separator: "; ")
        lastError = why
        if attempt.delivered == 0 { throw .notDelivered(why) }
        return attempt.delivered
    }

    /// What one `send` did.
    private struct Attempt {
        /// Leading messages delivered (after `sendAlone`: delivered by either attempt, or overtaken).
        var delivered: Int
        /// Whether each message was delivered, past the leading ones too (`send` only).
        var deliveredAt: [Bool] = []
        /// The error the send stopped at, if known (a produce call's or the first undelivered delivery report's).
        var stop: Int32?
        /// The stop came from a delivery report while later messages were in flight too (maybe in its record batch).
        var sharedBatch: Bool
        /// The last error the client's error callback reported.
        var clientError: Int32?
        /// Why it fell short, for the error text.
        var reasons: [String]
    }

    /// The undelivered messages a later delivered message of the same topic and key overtook (see `lastOvertaken`).
    /// Messages without a key have no order to keep (librdkafka spreads them over partitions).
    private static func overtaken(_ messages: [KafkaMessage], delivered: [Bool]) -> [Int] {
        struct Stream: Hashable { var topic: String, key: String }
        var deliveredLater = Set<Stream>()
        var found: [Int] = []
        for index in messages.indices.reversed() where index < delivered.count {
            guard let key = messages[index].key else { continue }
            let stream = Stream(topic: messages[index].topic, key: key)
            if delivered[index] {
                deliveredLater.insert(stream)
            } else if deliveredLater.contains(stream) {
                found.append(index)
            }
        }
        return found.reversed()
    }

    /// After a batch refused for its size or content, sends the undelivered messages one at a time: each one
    /// delivered alone counts, and the first one refused alone is the message refused for good. A message the batch
    /// attempt delivered is not sent again, and an `overtaken` one is not sent at all (its row is set aside): sent
    /// alone, either would land after a later message of its key that is already stored.
    private func sendAlone(_ messages: [KafkaMessage], from batch: Attempt, overtaken: Set<Int>, deadline: Int64) -> Attempt {
        var result = batch
        for index in batch.delivered..<messages.count {
            if (index < batch.deliveredAt.count && batch.deliveredAt[index]) || overtaken.contains(index) {
                result.delivered += 1
                continue
            }
            guard Self.nowMs() < deadline else {
                result.stop = RD_KAFKA_RESP_ERR__TIMED_OUT.rawValue
                result.reasons = ["ran out of time sending one message at a time after a batch was refused for its size or content"]
                return result
            }
            let one: Attempt
            do {
                one = try send(messages[index...index], deadline: deadline)
            } catch {
                return Attempt(delivered: result.delivered, stop: nil, sharedBatch: false, clientError: nil, reasons: ["\(error)"])
            }
            if one.delivered == 1 {
                result.delivered += 1
                continue
            }
            return Attempt(delivered: result.delivered, stop: one.stop, sharedBatch: false, clientError: one.clientError, reasons: one.reasons)
        }
        return Attempt(delivered: result.delivered, stop: nil, sharedBatch: false, clientError: nil, reasons: [])
    }

    /// Produces `messages`, waits for their delivery reports until `deadline`, then purges what is left.
    private func send(_ messages: ArraySlice<KafkaMessage>, deadline: Int64) throws(KafkaError) -> Attempt {
        let rk: OpaquePointer
        if let p = producer {
            rk = p
        } else {
            rk = try makeProducer()
            producer = rk
        }
        state.pointee.last_error = 0
        state.pointee.fatal = 0
        let slots = UnsafeMutablePointer<clerk_kafka_delivery>.allocate(capacity: messages.count)
        slots.initialize(repeating: clerk_kafka_delivery(state: 0, error: 0), count: messages.count)
        let (produced, refusalCode, refusal) = produce(messages, into: slots, rk: rk, deadline: deadline)
        let stillPending = awaitReports(rk, slots: slots, produced: produced, deadline: deadline)
        var delivered = 0
        while delivered < produced && slots[delivered].state == 1 { delivered += 1 }
        let deliveredAt = (0..<messages.count).map { $0 < produced && slots[$0].state == 1 }
        let firstFailure = (0..<produced).first { slots[$0].state == 2 }.map { Int32(slots[$0].error) }
        // The message the send stopped at: refused by its delivery report, or at produce time.
        let stop: Int32? =
            delivered < produced
            ? (slots[delivered].state == 2 ? Int32(slots[delivered].error) : nil)
            : (delivered < messages.count ? refusalCode : nil)
        if stillPending {
            // librdkafka still owns pointers into `slots`: leave them allocated rather than risk a write into
            // freed memory, and start a new producer next time.
            rd_kafka_destroy(rk)
            producer = nil
        } else {
            slots.deallocate()
        }
        if state.pointee.fatal != 0, let p = producer {
            rd_kafka_destroy(p)
            producer = nil
        }
        var reasons: [String] = []
        if let refusal { reasons.append(refusal) }
        if let code = firstFailure { reasons.append(Self.describe(code)) }
        let clientError = state.pointee.last_error != 0 ? Int32(state.pointee.last_error) : nil
        if clientError != nil { reasons.append(withUnsafeBytes(of: state.pointee.reason) { Self.cString($0) }) }
        return Attempt(
            delivered: delivered, deliveredAt: deliveredAt, stop: stop,
            sharedBatch: stop != nil && delivered < produced && produced > delivered + 1,
            clientError: clientError, reasons: delivered < messages.count ? reasons : [])
    }

    /// Hands `messages` to librdkafka in order, each with its delivery slot; stops at the first it refuses.
    private func produce(
        _ messages: ArraySlice<KafkaMessage>, into slots: UnsafeMutablePointer<clerk_kafka_delivery>,
        rk: OpaquePointer, deadline: Int64
    ) -> (produced: Int, code: Int32?, reason: String?) {
        var produced = 0
        for message in messages {
            guard let headers = rd_kafka_headers_new(message.headers.count) else { return (produced, nil, "out of memory") }
            for header in message.headers {
                _ = rd_kafka_header_add(headers, header.name, -1, header.value, -1)
            }
            while true {
                let key = message.key.map { Array($0.utf8) }
                let rc = message.value.withUnsafeBytes { value in
                    (key ?? []).withUnsafeBytes { k in
                        clerk_kafka_produce(
                            rk, message.topic, message.key == nil ? nil : k.baseAddress, k.count,
                            value.baseAddress, value.count, headers, slots + produced)
                    }
                }
                if rc == 0 { break }
                if rc == Int32(RD_KAFKA_RESP_ERR__QUEUE_FULL.rawValue), Self.nowMs() < deadline {
                    rd_kafka_poll(rk, 10)
                    continue
                }
                rd_kafka_headers_destroy(headers)
                return (produced, rc, Self.describe(rc))
            }
            produced += 1
        }
        return (produced, nil, nil)
    }

    /// Serves delivery reports until the first `produced` slots are settled or `deadline`; then purges the rest so
    /// their reports come now. Returns whether some are still unsettled.
    private func awaitReports(
        _ rk: OpaquePointer, slots: UnsafeMutablePointer<clerk_kafka_delivery>, produced: Int,
        deadline: Int64
    ) -> Bool {
        func pending() -> Bool { (0..<produced).contains { slots[$0].state == 0 } }
        // rd_kafka_flush sends what lingers at once and serves the delivery reports on this thread as they
        // come; a poll loop waited for linger.ms and the poll interval on every batch (bench-outbox: 28 ms per
        // 500 messages against 10 ms for the broker's own round trip).
        if pending() { _ = rd_kafka_flush(rk, Int32(max(0, deadline - Self.nowMs()))) }
        while pending() && Self.nowMs() < deadline { rd_kafka_poll(rk, 5) }
        if pending() {
            _ = rd_kafka_purge(rk, Int32(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT))
            // Purged messages report at the next poll; half a second is plenty and stays inside the caller's margin.
            let stop = Self.nowMs() + 500
            while pending() && Self.nowMs() < stop { rd_kafka_poll(rk, 20) }
        }
        return pending()
    }

    /// librdkafka's words for `code`.
    private static func describe(_ code: Int32) -> String { String(cString: rd_kafka_err2str(rd_kafka_resp_err_t(rawValue: code))) }

    private static func cString(_ raw: UnsafeRawBufferPointer) -> String {
        let bytes = raw.prefix { $0 != 0 }
        return String(decoding: bytes, as: UTF8.self)
    }
}
