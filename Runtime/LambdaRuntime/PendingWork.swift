import Synchronization

/// Work a function scheduled to run after its response is posted (`Context.afterResponse`).
///
/// The caller gets its answer without waiting for this work (e.g. publishing the outbox after a webhook),
/// and the host runs it before asking for the next event, so it still belongs to the invocation.
public final class PendingWork: Sendable {
    private let items = Mutex<[@Sendable () -> Void]>([])

    /// Creates an empty list.
    public init() {}

    /// Adds `work` to run after the response.
    public func add(_ work: @escaping @Sendable () -> Void) {
        items.withLock { $0.append(work) }
    }

    /// Runs what was scheduled, in order, including work scheduled by that work; leaves the list empty.
    public func runAll() {
        while true {
            let batch = items.withLock { list -> [@Sendable () -> Void] in
                if list.isEmpty { return [] }
                var taken: [@Sendable () -> Void] = []
                swap(&taken, &list)
                return taken
            }
            if batch.isEmpty { return }
            for work in batch { work() }
        }
    }
}
