import Foundation
import Synchronization
import Testing
@testable import FaultlineConcurrency

/// The blocking bridge: off the cooperative pool, errors through, cancellation as documented, bounded.
@Suite struct BlockingTests {
    struct Boom: Error, Equatable { var code: Int }

    /// Waits (blocking) until `n` parties have arrived or `timeout` passes; true when all came.
    final class Barrier: @unchecked Sendable {
        private let cond = NSCondition()
        private var arrived = 0
        let n: Int
        init(_ n: Int) { self.n = n }
        func arriveAndWait(timeout: TimeInterval) -> Bool {
            cond.lock(); defer { cond.unlock() }
            arrived += 1
            if arrived >= n { cond.broadcast(); return true }
            let until = Date(timeIntervalSinceNow: timeout)
            while arrived < n { if !cond.wait(until: until) { return arrived >= n } }
            return true
        }
    }

    /// An atomic counter that closures can share.
    final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }

    @Test func runsOnAThreadOfItsOwnNotTheCaller() async {
        #expect(!BlockingPool.isPoolThread)
        let onPool = await Blocking.run { BlockingPool.isPoolThread }
        #expect(onPool)
    }

    /// More blocked bodies than the machine has cores wait for each other: on the cooperative pool
    /// (one thread a core) they would never all meet; on the bridge's own threads they do.
    @Test func manyBodiesBlockAtOnceWithoutStarvingEachOther() async {
        let n = max(8, ProcessInfo.processInfo.activeProcessorCount * 2)
        let pool = BlockingPool(maxThreads: n)
        let barrier = Barrier(n)
        let met = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<n { group.addTask { await pool.run { barrier.arriveAndWait(timeout: 10) } } }
            return await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
        }
        #expect(met == n)
    }

    @Test func returnsTheValueAndPropagatesTheTypedError() async {
        let v = await Blocking.run { 6 * 7 }
        #expect(v == 42)
        do {
            _ = try await Blocking.run { () throws(Boom) -> Int in throw Boom(code: 7) }
            Issue.record("no error")
        } catch {
            #expect(error == Boom(code: 7))  // typed: `error` is a Boom
        }
    }

    /// Cancellation does not abandon the body: the caller resumes only after it ended, with its result.
    @Test func aCancelledCallerStillGetsTheFinishedBodysResult() async {
        let release = Barrier(2)
        let finished = Counter()
        let result = await withTaskGroup(of: (Int, Bool, Bool).self) { group in
            group.addTask {
                let v = await Blocking.run {
                    _ = release.arriveAndWait(timeout: 10)
                    Thread.sleep(forTimeInterval: 0.05)
                    finished.value.store(1, ordering: .sequentiallyConsistent)
                    return 42
                }
                return (v, finished.value.load(ordering: .sequentiallyConsistent) == 1, Task.isCancelled)
            }
            try? await Task.sleep(for: .milliseconds(50))
            group.cancelAll()
            _ = release.arriveAndWait(timeout: 10)
            return await group.next()!
        }
        #expect(result.0 == 42)
        #expect(result.1, "the caller resumed before the body ended")
        #expect(result.2, "the caller's task was cancelled")
    }

    @Test func manyConcurrentCallsCompleteOnABoundedPool() async {
        let pool = BlockingPool(maxThreads: 3)
        let running = Counter(), most = Counter()
        let sum = await withTaskGroup(of: Int.self) { group in
            for i in 0..<60 {
                group.addTask {
                    await pool.run {
                        let now = running.value.wrappingAdd(1, ordering: .sequentiallyConsistent).newValue
                        var seen = most.value.load(ordering: .sequentiallyConsistent)
                        while now > seen {
                            let (exchanged, original) = most.value.compareExchange(expected: seen, desired: now, ordering: .sequentiallyConsistent)
                            if exchanged { break }
                            seen = original
                        }
                        Thread.sleep(forTimeInterval: 0.002)
                        running.value.wrappingSubtract(1, ordering: .sequentiallyConsistent)
                        return i
                    }
                }
            }
            return await group.reduce(0, +)
        }
        #expect(sum == (0..<60).reduce(0, +))
        #expect(most.value.load(ordering: .sequentiallyConsistent) <= 3)
        #expect(pool.threadCounts.peak <= 3)
    }

    @Test func forEachRunsEveryIndexOnceAndCannotDeadlockOnAFullPool() async {
        let pool = BlockingPool(maxThreads: 2)
        let hits = Mutex<[Int]>(Array(repeating: 0, count: 20))
        pool.forEach(20) { i in hits.withLock { $0[i] += 1 } }
        #expect(hits.withLock { $0 } == Array(repeating: 1, count: 20))

        // The only thread of a one-thread pool fans out: it must do the work itself.
        let single = BlockingPool(maxThreads: 1)
        let count = await single.run {
            let n = Atomic<Int>(0)
            single.forEach(5) { _ in n.wrappingAdd(1, ordering: .relaxed) }
            return n.load(ordering: .relaxed)
        }
        #expect(count == 5)
    }

    @Test func idleThreadsEnd() async throws {
        let pool = BlockingPool(maxThreads: 2, idleTimeout: .milliseconds(50))
        _ = await pool.run { 1 }
        #expect(pool.threadCounts.peak == 1)
        let deadline = ContinuousClock.now + .seconds(5)
        while pool.threadCounts.now > 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(pool.threadCounts.now == 0)
    }
}
