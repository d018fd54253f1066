import JSON
import LambdaRuntime

#if canImport(Glibc)
    import Glibc
#endif

/// A mutex with a condition variable, for the few places that hand work between threads.
public final class ConditionLock: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var cond = pthread_cond_t()

    /// Creates an unlocked lock.
    public init() {
        pthread_mutex_init(&mutex, nil)
        var attr = pthread_condattr_t()
        pthread_condattr_init(&attr)
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
        pthread_cond_init(&cond, &attr)
        pthread_condattr_destroy(&attr)
    }

    deinit {
        pthread_cond_destroy(&cond)
        pthread_mutex_destroy(&mutex)
    }

    /// Runs `body` holding the lock.
    public func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }

    /// Waits (holding the lock around `condition`) until it is true or `timeoutMs` passes; returns whether it held.
    public func wait(timeoutMs: Int64 = .max, until condition: () -> Bool) -> Bool {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        if timeoutMs == .max {
            while !condition() { pthread_cond_wait(&cond, &mutex) }
            return true
        }
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let endNs = Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec) + timeoutMs * 1_000_000
        var end = timespec(tv_sec: Int(endNs / 1_000_000_000), tv_nsec: Int(endNs % 1_000_000_000))
        while !condition() {
            if pthread_cond_timedwait(&cond, &mutex, &end) == ETIMEDOUT { return condition() }
        }
        return true
    }

    /// Wakes every waiter (call after changing what they wait for, inside or outside `withLock`).
    public func broadcast() { pthread_cond_broadcast(&cond) }
}

/// Starts detached OS threads (the servers here block in `accept`/`recv`, which suits threads, not tasks).
public enum Threads {
    private final class Box {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    /// Runs `body` on a new detached thread.
    public static func detach(_ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(
            &thread, nil,
            { arg in
                let box = Unmanaged<Box>.fromOpaque(arg!).takeRetainedValue()
                box.body()
                return nil
            }, box)
        precondition(rc == 0, "pthread_create failed")
        pthread_detach(thread)
    }
}
