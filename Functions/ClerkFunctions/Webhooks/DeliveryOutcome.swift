import JSON
import Store

/// What the handler made of one delivery. It carries its own answer (`HTTPAnswer`) and whether a queue must
/// bring the message back; adapters only write it in their event's shape.
enum DeliveryOutcome: Sendable, Equatable {
    /// Applied (or recognised as a duplicate or stale version); `apiKey` is the key issuance's outcome.
    case applied(type: String, AppliedChange, key: AnswerKey, apiKey: String?)
    /// A type this function does not apply: 202, never retried.
    case ignored(type: String)
    /// PostgreSQL refused the data itself (SQLSTATE class 22): recorded once, answered 200, never retried.
    case rejected(type: String, sqlState: String)
    /// Not applied: the failure's code says whether a retry may help.
    case failed(type: String?, Failure)

    /// The event type, for the metric (nil before the body was read).
    var eventType: String? {
        switch self {
        case .applied(let type, _, _, _), .ignored(let type), .rejected(let type, _): type
        case .failed(let type, _): type
        }
    }

    /// Whether a queue must deliver the message again (a database or profile service away, a key being issued).
    var isRetryable: Bool {
        if case .failed(_, let failure) = self { return failure.code.isRetryable }
        return false
    }
}

extension DeliveryOutcome: HTTPAnswer {
    var status: Int {
        switch self {
        case .applied, .rejected: 200
        case .ignored: 202
        case .failed(_, let failure): failure.status
        }
    }

    var body: DeliveryAnswerBody {
        switch self {
        case .applied(_, let change, let key, let apiKey):
            DeliveryAnswerBody(status: change.status.rawValue, idKey: key, id: change.id?.postgresText, apiKey: apiKey)
        case .ignored(let type): DeliveryAnswerBody(status: "ignored", type: type)
        case .rejected(_, let sqlState): DeliveryAnswerBody(status: "rejected", error: "data_error", sqlState: sqlState)
        case .failed(_, let failure): DeliveryAnswerBody(error: failure.code.rawValue, message: failure.message)
        }
    }
}

/// The JSON of a delivery's answer: `{"status", "userId"|"organizationId"|"membershipId", "apiKey"}`,
/// `{"status":"ignored","type"}`, `{"status":"rejected","error","sqlState"}` or `{"error","message"}`.
struct DeliveryAnswerBody: Encodable, Sendable {
    var status: String?
    var idKey: AnswerKey?
    var id: String?
    var apiKey: String?
    var type: String?
    var error: String?
    var sqlState: String?
    var message: String?

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: JSONMemberKey.self)
        try c.encodeIfPresent(status, forKey: JSONMemberKey("status"))
        // Organizations and memberships name a missing row `null`, users leave it out (as they always have).
        if let idKey, idKey == .userId {
            try c.encodeIfPresent(id, forKey: JSONMemberKey(idKey.rawValue))
        } else if let idKey {
            try c.encode(id, forKey: JSONMemberKey(idKey.rawValue))
        }
        try c.encodeIfPresent(apiKey, forKey: JSONMemberKey("apiKey"))
        try c.encodeIfPresent(type, forKey: JSONMemberKey("type"))
        try c.encodeIfPresent(error, forKey: JSONMemberKey("error"))
        try c.encodeIfPresent(sqlState, forKey: JSONMemberKey("sqlState"))
        try c.encodeIfPresent(message, forKey: JSONMemberKey("message"))
    }
}
