import FaultlinePG
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// An event loop on one POSIX thread that serves several clients, as `pgbench -j` serves its clients from one
/// thread: the workers' tasks run on it (it is their task executor) and every libpq wait or sleep of theirs is one
/// entry in a single `ppoll` over all their sockets and timers. A thread per client instead sleeps and wakes (a
/// context switch) for every statement of every client; here one wake-up serves every client that is ready.
///
/// Only the loop's own thread touches the waiters; other threads only enqueue jobs (a resumed start gate, a task's
/// first job), waking the loop through a pipe. `run()` returns once every task it was given has ended
/// (`taskEnded()`), so the thread can be joined.
final class PollLoop: TaskExecutor, PGWaiter, @unchecked Sendable {
    private struct Waiter {
        var fd: Int32
        var events: Int16
        var deadlineNs: Int64
        var continuation: UnsafeContinuation<Bool, Never>
    }

    private let inbox = Mutex<[UnownedJob]>([])
    /// A pipe: other threads write a byte to wake the loop from `ppoll` (both ends non-blocking).
    private let wakeRead: Int32
    private let wakeWrite: Int32
    /// pthread_self() of the loop once it runs (0 before): enqueues from it need no wake-up.
    private let loopThread = Atomic<UInt>(0)
    /// Tasks given to this loop that have not ended. Touched on the loop thread only (after `init`).
    private var live: Int
    private var waiters: [Waiter] = []
    private var fds: [pollfd] = []
    private var ready: [Bool] = []
    private var running: [UnownedJob] = []

    /// A loop for `tasks` tasks.
    init(tasks: Int) {
        live = tasks
        var fds: [Int32] = [-1, -1]
        precondition(pipe(&fds) == 0, "pipe failed with errno \(errno)")
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        wakeRead = fds[0]
        wakeWrite = fds[1]
    }

    deinit {
        Glibc.close(wakeRead)
        Glibc.close(wakeWrite)
    }

    // MARK: TaskExecutor

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        inbox.withLock { $0.append(unowned) }
        if UInt(pthread_self()) != loopThread.load(ordering: .acquiring) {
            var one: UInt8 = 1
            _ = Glibc.write(wakeWrite, &one, 1)  // a full pipe already wakes the loop
        }
    }

    // MARK: Waiting (loop thread only: called by the tasks that run on it)

    /// Suspends the calling task until `socket` is ready for `events` or `deadlineNs` (CLOCK_MONOTONIC) passes.
    func wait(socket: Int32, events: Int16, deadlineNs: Int64) async -> Bool {
        await withUnsafeContinuation { (c: UnsafeContinuation<Bool, Never>) in
            waiters.append(Waiter(fd: socket, events: events, deadlineNs: deadlineNs, continuation: c))
        }
    }

    /// Suspends the calling task until `deadlineNs` (CLOCK_MONOTONIC), waking every 20 ms to check `stop`; false
    /// when `stop` fired first.
    func sleep(untilNs deadlineNs: Int64, stop: StopFlag) async -> Bool {
        while true {
            if stop.isSet { return false }
            let now = monotonicNs()
            if now >= deadlineNs { return true }
            _ = await wait(socket: -1, events: 0, deadlineNs: min(deadlineNs, now + 20_000_000))
        }
    }

    /// A task of this loop has ended (called on the loop, as the task's last step).
    func taskEnded() { live -= 1 }

    // MARK: The loop

    /// Runs jobs and waits until every task given to this loop has ended.
    func run() {
        loopThread.store(UInt(pthread_self()), ordering: .releasing)
        let executor = asUnownedTaskExecutor()
        while true {
            inbox.withLock { q in swap(&q, &running) }
            if !running.isEmpty {
                for job in running { job.runSynchronously(on: executor) }
                running.removeAll(keepingCapacity: true)
                continue
            }
            if live == 0 { return }
            pollOnce()
        }
    }

    /// One `ppoll` over the wake-up pipe and every waiter's socket, until the nearest deadline; resumes the waiters that
    /// are ready or due.
    private func pollOnce() {
        fds.removeAll(keepingCapacity: true)
        fds.append(pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0))
        var nearest = Int64.max
        for w in waiters {
            fds.append(pollfd(fd: w.fd, events: w.events, revents: 0))  // fd -1: ignored by poll, a timer only
            nearest = min(nearest, w.deadlineNs)
        }
        let now = monotonicNs()
        if nearest > now {
            // Nothing waits unbounded: with no deadline (every task waits for the start gate) wake once a second.
            let d = min(nearest - now, 1_000_000_000)
            var ts = timespec(tv_sec: Int(d / 1_000_000_000), tv_nsec: Int(d % 1_000_000_000))
            _ = fds.withUnsafeMutableBufferPointer { b in faultline_ppoll(b.baseAddress, nfds_t(b.count), &ts, nil) }
        }
        if fds[0].revents != 0 {
            var drain = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
            _ = withUnsafeMutableBytes(of: &drain) { Glibc.read(wakeRead, $0.baseAddress, $0.count) }
        }
        let after = monotonicNs()
        // Resume in order; a resumed task runs only after this pass (its job goes to the inbox).
        var kept = 0
        for i in waiters.indices {
            let w = waiters[i]
            let revents = fds[i + 1].revents
            if w.fd >= 0, revents != 0 {
                w.continuation.resume(returning: true)
            } else if w.deadlineNs <= after {
                w.continuation.resume(returning: w.fd < 0)
            } else {
                waiters[kept] = w
                kept += 1
            }
        }
        waiters.removeLast(waiters.count - kept)
    }
}

/// `ppoll(2)`: `poll` with a nanosecond timeout (`poll`'s milliseconds would start an open-loop request up to 1 ms
/// late). Glibc's module does not export it (it needs _GNU_SOURCE); the C symbol is linked directly.
@_silgen_name("ppoll")
private func faultline_ppoll(_ fds: UnsafeMutablePointer<pollfd>?, _ nfds: nfds_t, _ timeout: UnsafePointer<timespec>?,
                             _ sigmask: UnsafeRawPointer?) -> Int32

/// Runs `bodies` on `jobs` event loops (threads), each body a task of one loop (body i on loop i % jobs); suspends
/// (without blocking the cooperative pool) until all have ended, then joins the threads.
func runOnLoops(jobs: Int, _ bodies: [@Sendable (PollLoop) async -> Void]) async {
    guard !bodies.isEmpty else { return }
    let n = max(1, min(jobs, bodies.count))
    let loops = (0..<n).map { j in PollLoop(tasks: (bodies.count - j + n - 1) / n) }
    let threads = loops.map { loop in JoinableThread { loop.run() } }
    await withTaskGroup(of: Void.self) { group in
        for (i, body) in bodies.enumerated() {
            let loop = loops[i % n]
            group.addTask(executorPreference: loop) {
                await body(loop)
                loop.taskEnded()
            }
        }
    }
    for t in threads { t.join() }
}
