import Foundation
import Synchronization
import Testing
@testable import FaultlineLoad
#if canImport(Glibc)
import Glibc
#endif

/// The event loops that serve several clients on one thread (`PollLoop`, `runOnLoops`, like pgbench -j): real
/// threads, real file descriptors (socket pairs), real clocks; every wait is bounded.
@Suite struct PollLoopTests {
    /// A connected pair of Unix stream sockets; closed by the caller.
    static func socketPair() throws -> (Int32, Int32) {
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else { throw POSIXError(.EIO) }
        return (fds[0], fds[1])
    }

    @Test func everyBodyRunsOnceAndBodiesOfALoopShareItsThread() async {
        let threads = Shared<[Int: UInt]>([:])
        let loopIDs = Shared<[Int: ObjectIdentifier]>([:])
        await runOnLoops(jobs: 2, (0..<5).map { i in { loop in
            threads.with { $0[i] = UInt(pthread_self()) }
            loopIDs.with { $0[i] = ObjectIdentifier(loop) }
            // Suspend once, and come back on the same loop's thread.
            _ = await loop.sleep(untilNs: monotonicNs() + 1_000_000, stop: StopFlag())
            #expect(UInt(pthread_self()) == threads.with { $0[i] })
        } })
        let t = threads.with { $0 }, l = loopIDs.with { $0 }
        #expect(t.count == 5)
        // Body i runs on loop i % 2: 0, 2, 4 together, 1, 3 together, on two threads.
        #expect(Set([0, 2, 4].map { l[$0]! }).count == 1 && Set([1, 3].map { l[$0]! }).count == 1 && l[0] != l[1])
        #expect(Set([0, 2, 4].map { t[$0]! }).count == 1 && Set([1, 3].map { t[$0]! }).count == 1 && t[0] != t[1])
        #expect(!t.values.contains(UInt(pthread_self())))
    }

    @Test func moreJobsThanBodiesMakesOneLoopPerBody() async {
        let loops = Shared<Set<ObjectIdentifier>>([])
        await runOnLoops(jobs: 8, (0..<3).map { _ in { loop in loops.with { _ = $0.insert(ObjectIdentifier(loop)) } } })
        #expect(loops.with { $0.count } == 3)
    }

    /// While one client waits for its socket, another client of the same loop runs and sleeps: one thread, both
    /// progress, and each wait ends on its own event.
    @Test func aWaitingSocketDoesNotBlockTheOtherClientsOfItsLoop() async throws {
        let (a, b) = try Self.socketPair()
        defer { close(a); close(b) }
        let events = Shared<[String]>([])
        let start = monotonicNs()
        await runOnLoops(jobs: 1, [
            { loop in
                let ready = await loop.wait(socket: a, events: Int16(POLLIN), deadlineNs: monotonicNs() + 5_000_000_000)
                events.with { $0.append("readable \(ready)") }
            },
            { loop in
                _ = await loop.sleep(untilNs: monotonicNs() + 30_000_000, stop: StopFlag())
                events.with { $0.append("slept") }
                var byte: UInt8 = 1
                _ = write(b, &byte, 1)
            },
        ])
        // The order proves it: the socket became readable only after the other client slept and wrote. No upper bound
        // on the time: CI's parallel unit run once stalled every test of the process for about 19 s.
        #expect(events.with { $0 } == ["slept", "readable true"])
        let elapsed = monotonicNs() - start
        #expect(elapsed >= 30_000_000, "\(elapsed) ns")
    }

    @Test func aSocketWaitEndsFalseAtItsDeadline() async throws {
        let (a, b) = try Self.socketPair()
        defer { close(a); close(b) }
        let result = Shared<Bool?>(nil)
        let start = monotonicNs()
        await runOnLoops(jobs: 1, [{ loop in
            let r = await loop.wait(socket: a, events: Int16(POLLIN), deadlineNs: monotonicNs() + 40_000_000)
            result.with { $0 = r }
        }])
        let elapsed = monotonicNs() - start
        // False: ended by its deadline, not by the socket; never before the deadline. (No upper bound: see above.)
        #expect(result.with { $0 } == false)
        #expect(elapsed >= 40_000_000, "\(elapsed) ns")
    }

    /// A writable socket is ready at once.
    @Test func aWritableSocketIsReadyAtOnce() async throws {
        let (a, b) = try Self.socketPair()
        defer { close(a); close(b) }
        let result = Shared<Bool?>(nil)
        await runOnLoops(jobs: 1, [{ loop in
            let r = await loop.wait(socket: a, events: Int16(POLLOUT), deadlineNs: monotonicNs() + 5_000_000_000)
            result.with { $0 = r }
        }])
        #expect(result.with { $0 } == true)
    }

    /// A sleep ends at its instant, to well under a millisecond's lateness on an idle loop (ppoll's nanoseconds, not
    /// poll's milliseconds), and at once when the stop flag is set.
    @Test func sleepEndsOnTimeAndStopsEarly() async {
        let lateness = Shared<[Int64]>([])
        let stopped = Shared<(Bool, Int64)?>(nil)
        let stop = StopFlag()
        await runOnLoops(jobs: 1, [
            { loop in
                for k in 1...5 {
                    let due = monotonicNs() + Int64(k) * 1_300_000
                    _ = await loop.sleep(untilNs: due, stop: StopFlag())
                    let late = monotonicNs() - due
                    lateness.with { $0.append(late) }
                }
            },
            { loop in
                let t = monotonicNs()
                let r = await loop.sleep(untilNs: t + 10_000_000_000, stop: stop)
                stopped.with { $0 = (r, monotonicNs() - t) }
            },
            { loop in
                _ = await loop.sleep(untilNs: monotonicNs() + 30_000_000, stop: StopFlag())
                stop.set()
            },
        ])
        let l = lateness.with { $0 }
        #expect(l.count == 5 && l.allSatisfy { $0 >= 0 })
        // The machine is shared and a parallel test run can stall the process: the best of five sleeps shows ppoll's
        // precision (under a millisecond late), not every one of them.
        #expect((l.min() ?? .max) < 1_000_000, "lateness \(l) ns")
        // False: ended by the stop, 10 s before its instant.
        let s = stopped.with { $0 }
        #expect(s?.0 == false)
    }

    /// The start gate releases every client of every loop together, without blocking a loop's thread while some of
    /// its clients have not arrived.
    @Test func startGateReleasesClientsOfSeveralLoopsTogether() async {
        let gate = StartGate(parties: 6)
        let starts = Shared<[Int64]>([])
        await runOnLoops(jobs: 2, (0..<6).map { i in { loop in
            _ = await loop.sleep(untilNs: monotonicNs() + Int64(i) * 2_000_000, stop: StopFlag())
            let s = await gate.arrive()
            starts.with { $0.append(s) }
        } })
        let s = starts.with { $0 }
        #expect(s.count == 6 && Set(s).count == 1)
        #expect(gate.startNs == s.first)
    }

    @Test func jobsDefaultToOnePerCoreAtMostOnePerClient() throws {
        #expect(LoadConfig.defaultJobs(clients: 4, cores: 2) == 2)
        #expect(LoadConfig.defaultJobs(clients: 1, cores: 8) == 1)
        #expect(LoadConfig.defaultJobs(clients: 256, cores: 16) == 16)
        var c = LoadConfig(workloads: [WorkloadConfig(kind: .tpcb, conninfo: "host=x", clients: 3),
                                       WorkloadConfig(kind: .reads, conninfo: "host=x", clients: 2)])
        c.jobs = 4
        #expect(c.effectiveJobs == 4)
        c.jobs = 64
        #expect(c.effectiveJobs == 5)
        c.jobs = nil
        #expect(c.effectiveJobs == min(5, ProcessInfo.processInfo.activeProcessorCount))
        c.jobs = 0
        #expect(throws: LoadConfigError.self) { try c.validate() }
        c.jobs = 257
        let e = #expect(throws: LoadConfigError.self) { try c.validate() }
        #expect(e?.message.contains("jobs 257 is out of range; use 1...256") == true)
        c.jobs = 1
        try c.validate()
    }
}

/// A value shared by the tasks of a test (a Mutex cannot be captured by an escaping closure).
final class Shared<T: Sendable>: Sendable {
    private let m: Mutex<T>
    init(_ value: T) { m = Mutex(value) }
    func with<R: Sendable>(_ body: (inout sending T) -> sending R) -> R { m.withLock(body) }
}
