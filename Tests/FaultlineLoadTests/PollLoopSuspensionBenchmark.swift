import Foundation
import Synchronization
import Testing
@testable import FaultlineLoad
#if canImport(Glibc)
import Glibc
#endif

/// What one statement's wait costs a client on its event loop beyond the `poll` itself: a task suspends in
/// `PollLoop.wait` on a socket that is already readable (so no wait in the kernel), side by side with a thread
/// calling `poll` on the same two descriptors (the loop's wake-up pipe and the socket) directly, as pgbench's
/// state machine does. A benchmark, run only on request (docs/load.md):
/// `FAULTLINE_BENCH_SUSPENSION=1 swift test --filter PollLoopSuspensionBenchmark`. Prints ns per wait; asserts
/// only that every wait saw the socket ready.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["FAULTLINE_BENCH_SUSPENSION"] == "1"))
struct PollLoopSuspensionBenchmark {
    @Test func aSuspendedWaitAgainstAPlainPoll() async throws {
        let (a, b) = try PollLoopTests.socketPair()
        defer { close(a); close(b) }
        var one: UInt8 = 1
        #expect(write(b, &one, 1) == 1)  // `a` stays readable: nothing reads it
        var pipeFDs: [Int32] = [-1, -1]
        #expect(pipe(&pipeFDs) == 0)
        defer { close(pipeFDs[0]); close(pipeFDs[1]) }
        let n = 300_000
        for round in 1...3 {
            let ready = Shared(0)
            let t0 = monotonicNs()
            await runOnLoops(jobs: 1, [{ loop in
                var k = 0
                for _ in 0..<n where await loop.wait(socket: a, events: Int16(POLLIN), deadlineNs: monotonicNs() + 1_000_000_000) { k += 1 }
                ready.with { $0 = k }
            }])
            let t1 = monotonicNs()
            var fds = [pollfd(fd: pipeFDs[0], events: Int16(POLLIN), revents: 0), pollfd(fd: a, events: Int16(POLLIN), revents: 0)]
            var polled = 0
            for _ in 0..<n {
                fds[0].revents = 0
                fds[1].revents = 0
                if poll(&fds, 2, 1000) == 1, fds[1].revents & Int16(POLLIN) != 0 { polled += 1 }
            }
            let t2 = monotonicNs()
            #expect(ready.with { $0 } == n)
            #expect(polled == n)
            let wait = Double(t1 - t0) / Double(n), plain = Double(t2 - t1) / Double(n)
            print(String(format: "round %d: PollLoop.wait %.0f ns, plain poll %.0f ns, difference %.0f ns a wait", round, wait, plain, wait - plain))
        }
    }
}
