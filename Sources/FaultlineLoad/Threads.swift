import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Monotonic clock in nanoseconds (CLOCK_MONOTONIC). Cheap: a vDSO call, no allocation.
@inline(__always) func monotonicNs() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

/// Sleeps until the monotonic instant `deadlineNs`, waking at least every 20 ms to check `stop`.
/// Returns early (false) when `stop` fires.
func sleep(untilNs deadlineNs: Int64, stop: StopFlag) -> Bool {
    while true {
        if stop.isSet { return false }
        let now = monotonicNs()
        if now >= deadlineNs { return true }
        let chunk = min(deadlineNs - now, 20_000_000)
        var ts = timespec(tv_sec: Int(chunk / 1_000_000_000), tv_nsec: Int(chunk % 1_000_000_000))
        _ = nanosleep(&ts, nil)
    }
}

/// A stop request shared by the generator and its workers.
final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    var isSet: Bool { flag.load(ordering: .relaxed) }
    func set() { flag.store(true, ordering: .relaxed) }
}

/// Holds a thread body for pthread_create.
private final class ThreadBody {
    let run: @Sendable () -> Void
    init(_ run: @escaping @Sendable () -> Void) { self.run = run }
}

/// A POSIX thread for blocking I/O. Always joined by `runJoined`.
final class JoinableThread {
    #if canImport(Glibc)
    private var tid = pthread_t()
    #else
    private var tid: pthread_t?
    #endif

    init(_ body: @escaping @Sendable () -> Void) {
        let arg = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
        var attr = pthread_attr_t()
        pthread_attr_init(&attr)
        pthread_attr_setstacksize(&attr, 1 << 20)
        defer { pthread_attr_destroy(&attr) }
        let rc = pthread_create(&tid, &attr, { raw in
            #if canImport(Glibc)
            let box = Unmanaged<ThreadBody>.fromOpaque(raw!).takeRetainedValue()
            #else
            let box = Unmanaged<ThreadBody>.fromOpaque(raw).takeRetainedValue()
            #endif
            box.run()
            return nil
        }, arg)
        precondition(rc == 0, "pthread_create failed with \(rc)")
    }

    func join() {
        #if canImport(Glibc)
        pthread_join(tid, nil)
        #else
        if let t = tid { pthread_join(t, nil) }
        #endif
    }
}

/// Counts finished threads and resumes the waiting task when the last one ends.
private final class Countdown: Sendable {
    private let state: Mutex<(left: Int, cont: CheckedContinuation<Void, Never>?)>
    init(_ n: Int, _ cont: CheckedContinuation<Void, Never>) { state = Mutex((n, cont)) }
    func tick() {
        let c: CheckedContinuation<Void, Never>? = state.withLock { s in
            s.left -= 1
            guard s.left == 0 else { return nil }
            defer { s.cont = nil }
            return s.cont
        }
        c?.resume()
    }
}

/// Runs each body on its own thread, suspends (without blocking the cooperative pool) until all end,
/// then joins them.
func runJoined(_ bodies: [@Sendable () -> Void]) async {
    guard !bodies.isEmpty else { return }
    var threads: [JoinableThread] = []
    await withCheckedContinuation { (cont: CheckedContinuation<Void, Never>) in
        let countdown = Countdown(bodies.count, cont)
        for body in bodies {
            threads.append(JoinableThread { body(); countdown.tick() })
        }
    }
    for t in threads { t.join() }
}
