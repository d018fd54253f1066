import Synchronization

@testable import ClerkKit

/// A monotonic clock in milliseconds that the test sets: the throttle's time without sleeping.
final class SteppedClock: Sendable {
    private let ms: Mutex<Int64>

    init(_ start: Int64 = 0) { ms = Mutex(start) }

    /// The reading now.
    var now: Int64 { ms.withLock { $0 } }

    /// Reads `value` from now on.
    func set(_ value: Int64) { ms.withLock { $0 = value } }

    /// What the throttle calls.
    var read: MachineTokenThrottle.MonotonicClock { { [self] in now } }
}
