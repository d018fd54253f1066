import Store

@testable import ClerkFunctions

/// The outbox in memory with `OutboxStore`'s rules for one batch: the oldest pending rows first, the confirmed
/// ones published, the overtaken ones and the one refused for good set aside, the error kept on the rows left
/// pending; `busy` while another relay holds it. One test thread at a time.
final class InMemoryOutbox: OutboxRows, @unchecked Sendable {
    enum State: Equatable { case pending, published, setAside }
    struct Row {
        var message: OutboxMessage
        var state = State.pending
        var attempts = 0
        var lastError: String?
    }
    private(set) var rows: [Row] = []
    /// Another relay holds the outbox.
    var heldByAnother = false

    /// Adds `count` rows to `queue`, payloads naming users `user_<n>`.
    func add(_ count: Int, queue: String = "user-events") {
        for _ in 0..<count {
            let id = Int64(rows.count + 1)
            rows.append(Row(message: OutboxMessage(id: id, queue: queue, payload: #"{"type":"user.updated","clerkUserId":"user_\#(id)"}"#)))
        }
    }

    func ids(_ state: State) -> [Int64] { rows.filter { $0.state == state }.map(\.message.id) }

    func relay(limit: Int, send: ([OutboxMessage]) throws -> OutboxSendResult) throws -> OutboxBatchResult {
        if heldByAnother { return OutboxBatchResult(published: 0, error: nil, busy: true) }
        let indices = Array(rows.indices.filter { rows[$0].state == .pending }.prefix(limit))
        guard !indices.isEmpty else { return OutboxBatchResult(published: 0, error: nil, busy: false) }
        let sent = try send(indices.map { rows[$0].message })
        let confirmed = min(max(sent.confirmed, 0), indices.count)
        let refused = confirmed < indices.count && sent.refusedForGood ? confirmed : nil
        let overtaken = Set(sent.overtaken.filter { indices.indices.contains($0) && $0 != refused })
        var result = OutboxBatchResult(
            published: 0, error: sent.error, busy: false,
            overtaken: overtaken.sorted().map { rows[indices[$0]].message.id })
        for (position, index) in indices.enumerated() {
            if overtaken.contains(position) || position == refused {
                rows[index].state = .setAside
                rows[index].lastError = position == refused ? (sent.error ?? "refused") : "overtaken"
            } else if position < confirmed {
                rows[index].state = .published
                result.published += 1
            } else if refused == nil, let error = sent.error {
                rows[index].lastError = error
            } else {
                continue
            }
            rows[index].attempts += 1
        }
        if let refused { result.setAside = rows[indices[refused]].message.id }
        return result
    }

    func pendingCount() throws(PostgresError) -> Int { rows.filter { $0.state == .pending }.count }
}

/// A broker that records every batch it is sent and answers as `answer` says (everything confirmed by default).
final class RecordingDestination: OutboxDestination {
    let name: String
    private(set) var batches: [[Int64]] = []
    private(set) var traceIds: [String] = []
    private(set) var budgets: [Int] = []
    /// The answer for a batch.
    var answer: ([OutboxMessage]) -> OutboxSendResult = { OutboxSendResult(confirmed: $0.count, error: nil) }

    init(_ name: String) { self.name = name }

    func publish(_ batch: [OutboxMessage], budgetMs: Int, traceId: String) -> OutboxSendResult {
        batches.append(batch.map(\.id))
        traceIds.append(traceId)
        budgets.append(budgetMs)
        return answer(batch)
    }

    var sent: [Int64] { batches.flatMap { $0 } }
}
