import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one bridge from blocking calls (libpq, sockets, sleeps) to async code. `Blocking.run` runs a
/// closure on a small, bounded pool of threads of its own, never on the cooperative pool, and resumes
/// the caller with the closure's result. The load generator's per-client threads are not bridges and
/// stay outside this pool.
public enum Blocking {
    /// The pool `run` and `forEach` use: at most 16 threads, started as needed, ended when idle for 10 s.
    public static let shared = BlockingPool(maxThreads: 16)

    /// Runs `body` on a thread of the shared pool; returns what it returns, throws what it throws.
    ///
    /// Cancellation: a blocking call cannot be interrupted, so the body always runs to its end (every
    /// blocking call in Faultline has its own timeout) and the caller resumes with its result even when
    /// its task was cancelled meanwhile. Check `Task.isCancelled` afterwards if the caller should stop.
    public static func run<T: Sendable, E: Error>(_ body: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
        try await shared.run(body)
    }

    /// Runs `body(i)` for every `i` in `0..<count` at once, on the shared pool and on the calling thread,
    /// and returns when all have ended. For synchronous callers that fan out blocking calls.
    public static func forEach(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        shared.forEach(count, body)
    }
}

/// A fixed upper bound of threads for blocking work, fed from one FIFO queue. Threads start when work
/// waits and none is idle, and end after `idleTimeout` without work.
public final class BlockingPool: @unchecked Sendable {
    /// The most threads this pool runs at once.
    public let maxThreads: Int
    /// How long an idle thread waits for work before it ends.
    public let idleTimeout: Duration

    // Guarded by `cond`.
    private let cond = NSCondition()
    private var queue: [@Sendable () -> Void] = []
    private var head = 0
    private var threads = 0
    private var idle = 0
    private var peak = 0

    static let threadName = "fl-blocking"  // Linux keeps 15 characters of a thread name

    public init(maxThreads: Int, idleTimeout: Duration = .seconds(10)) {
        precondition(maxThreads > 0)
        self.maxThreads = maxThreads
        self.idleTimeout = idleTimeout
    }

    /// Runs `body` on one of this pool's threads; see `Blocking.run` for cancellation.
    public func run<T: Sendable, E: Error>(_ body: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
        let result: Result<T, E> = await withCheckedContinuation { (c: CheckedContinuation<Result<T, E>, Never>) in
            submit {
                let r: Result<T, E>
                do throws(E) { r = .success(try body()) } catch { r = .failure(error) }
                c.resume(returning: r)
            }
        }
        return try result.get()
    }

    /// Runs `body(i)` for every `i` in `0..<count` on this pool and the calling thread; returns when all
    /// have ended. The caller takes every index no pool thread has started, so a full pool (or a caller
    /// that is itself a pool thread) slows it down but cannot deadlock it.
    public func forEach(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        guard count > 0 else { return }
        let batch = Batch(count: count, body: body)
        for _ in 0..<min(count - 1, maxThreads) { submit { batch.drain() } }
        batch.drain()
        batch.wait()
    }

    /// Queues `job` for the next free thread, starting one if none is idle and the bound allows.
    public func submit(_ job: @escaping @Sendable () -> Void) {
        cond.lock()
        queue.append(job)
        let spawn = queue.count - head > idle && threads < maxThreads
        if spawn {
            threads += 1
            peak = max(peak, threads)
        }
        cond.signal()
        cond.unlock()
        if spawn {
            let t = Thread { [self] in work() }
            t.name = Self.threadName
            t.start()
        }
    }

    /// Threads alive now, and the most ever alive at once (for tests and diagnostics).
    public var threadCounts: (now: Int, peak: Int) {
        cond.lock(); defer { cond.unlock() }
        return (threads, peak)
    }

    /// True on a thread of any `BlockingPool`.
    public static var isPoolThread: Bool { pthread_getspecific(poolThreadKey) != nil }

    private func work() {
        pthread_setspecific(poolThreadKey, UnsafeRawPointer(bitPattern: 1))
        cond.lock()
        while true {
            if head < queue.count {
                let job = queue[head]
                head += 1
                if head == queue.count { queue.removeAll(keepingCapacity: true); head = 0 }
                cond.unlock()
                job()
                cond.lock()
                continue
            }
            idle += 1
            let woken = cond.wait(until: Date(timeIntervalSinceNow: Double(idleTimeout.components.seconds)
                                               + Double(idleTimeout.components.attoseconds) / 1e18))
            idle -= 1
            if !woken && head == queue.count {
                threads -= 1
                cond.unlock()
                return
            }
        }
    }
}

/// Marks the pool's threads (any value but nil).
private let poolThreadKey: pthread_key_t = {
    var key = pthread_key_t()
    precondition(pthread_key_create(&key, nil) == 0, "cannot create the pool's thread key")
    return key
}()

/// One `forEach` call: indexes handed out once each, and a count of the finished ones.
private final class Batch: @unchecked Sendable {
    let count: Int
    let body: @Sendable (Int) -> Void
    private let next = Atomic<Int>(0)
    private let finished = NSCondition()
    private var done = 0  // guarded by `finished`

    init(count: Int, body: @escaping @Sendable (Int) -> Void) {
        self.count = count
        self.body = body
    }

    /// Runs unstarted indexes until none is left.
    func drain() {
        while true {
            let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
            guard i < count else { return }
            body(i)
            finished.lock()
            done += 1
            if done == count { finished.broadcast() }
            finished.unlock()
        }
    }

    /// Returns once every index has finished.
    func wait() {
        finished.lock()
        while done < count { finished.wait() }
        finished.unlock()
    }
}
