#if canImport(Glibc)
import Glibc
#endif

/// A mutex with its condition variable: what the reader threads (LiveReader, DecodeAhead) and their consumers share
/// their queues under.
package final class Monitor: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()

    package init() {
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&condition, nil)
    }

    deinit {
        pthread_cond_destroy(&condition)
        pthread_mutex_destroy(&mutex)
    }

    /// Runs `body` holding the lock; inside it, `wait` and `wake` may be called.
    package func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return body()
    }

    /// Waits (lock held) until woken, or until `deadline` (CLOCK_REALTIME) passes; false when it passed.
    @discardableResult
    package func wait(until deadline: timespec? = nil) -> Bool {
        guard var deadline else { return pthread_cond_wait(&condition, &mutex) == 0 }
        return pthread_cond_timedwait(&condition, &mutex, &deadline) == 0
    }

    /// Wakes every waiter (lock held).
    package func wake() { pthread_cond_broadcast(&condition) }

    /// `milliseconds` from now on CLOCK_REALTIME, for `wait(until:)`.
    package static func deadline(in milliseconds: Int) -> timespec {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let total = Int(now.tv_nsec) + milliseconds * 1_000_000
        return timespec(tv_sec: now.tv_sec + total / 1_000_000_000, tv_nsec: total % 1_000_000_000)
    }
}

/// Starts a joinable POSIX thread running `body`; nil when the system would not create one.
package func spawnThread(_ body: @escaping () -> Void) -> pthread_t? {
    final class Body {
        let run: () -> Void
        init(_ run: @escaping () -> Void) { self.run = run }
    }
    let context = Unmanaged.passRetained(Body(body)).toOpaque()
    var thread = pthread_t()
    let status = pthread_create(&thread, nil, { context in
        Unmanaged<Body>.fromOpaque(context!).takeRetainedValue().run()
        return nil
    }, context)
    guard status == 0 else {
        Unmanaged<Body>.fromOpaque(context).release()
        return nil
    }
    return thread
}
