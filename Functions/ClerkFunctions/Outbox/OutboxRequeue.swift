import JSON
import Store

/// `clerk-functions outbox requeue`: puts rows set aside for good back in the outbox, once an operator fixed
/// the cause (raised a topic's `max.message.bytes`, removed a policy), keeping each key's final state right
/// (`OutboxStore.requeue`), and answers one JSON line: `{"moved":{…},"requeued":{…},"resent":{…}}` by queue.
public enum OutboxRequeue {
    /// A `--since` or `--topic` the command cannot use.
    public struct InputError: Error, CustomStringConvertible {
        /// What is wrong, naming the option.
        public var description: String
    }

    /// Requeues the set-aside rows of `topic` (a queue name, or the Kafka topic: `topicPrefix` + queue), set aside
    /// at or after `since`; nil means all.
    public static func run(_ connection: PostgresConnection, topic: String?, since: String?, topicPrefix: String) throws -> String {
        let filter = OutboxRequeueFilter(
            queue: try topic.map { try queue(topic: $0, prefix: topicPrefix) },
            since: try since.map(Self.since))
        let result = try OutboxStore(connection: connection).requeue(
            filter, partitionKey: OutboxPartitionKey.sql,
            wholeStateQueues: OutboxPartitionKey.wholeState)
        // Members sorted by the encoder (the queues too), so the line reads the same every time.
        let answer = RequeueAnswer(requeued: result.requeued, resent: result.resent, moved: result.moved)
        return String(decoding: try JSONCoding.encoder.encode(answer), as: UTF8.self)
    }

    /// The command's line: rows by queue.
    struct RequeueAnswer: Encodable {
        var requeued: [String: Int]
        var resent: [String: Int]
        var moved: [String: Int]
    }

    /// The queue `--topic` names: the queue itself, or the Kafka topic with `prefix`.
    public static func queue(topic: String, prefix: String) throws(InputError) -> String {
        let queue = !prefix.isEmpty && topic.hasPrefix(prefix) ? String(topic.dropFirst(prefix.count)) : topic
        guard !queue.isEmpty, queue.utf8.count <= 249 else { throw InputError(description: "--topic: a queue or Kafka topic name") }
        return queue
    }

    /// `--since`: a duration back from now (`90s`, `45m`, `2h`, `7d`, `2w`, up to 100 years) or an ISO-8601 date
    /// (`2025-06-01`, midnight UTC) or time with its offset (`2025-06-01T08:30:00Z`, `…+02:00`).
    public static func since(_ text: String) throws(InputError) -> OutboxRequeueFilter.Since {
        let invalid = InputError(
            description: "--since: a duration such as 90m, 2h or 7d, or an ISO-8601 time with its offset such as 2025-06-01T08:30:00Z")
        let bytes = Array(text.utf8)
        if let unit = bytes.last, let seconds = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800][String(UnicodeScalar(unit))],
            bytes.count >= 2, bytes.count <= 12, bytes.dropLast().allSatisfy({ (0x30...0x39).contains($0) }),
            let n = Int64(String(decoding: bytes.dropLast(), as: UTF8.self)), n > 0, n <= 3_155_760_000 / Int64(seconds)
        {
            return .secondsAgo(n * Int64(seconds))
        }
        guard let time = ISO8601Time(bytes) else { throw invalid }
        return .time(time.text)
    }
}
