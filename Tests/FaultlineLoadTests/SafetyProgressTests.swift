import Faultline
import Foundation
import Logging
import Testing
@testable import FaultlineLoad

/// What the abort conditions and the game-day view read of a running load: the recent p99, the errors by class,
/// the writes acknowledged so far.
@Suite struct SafetyProgressTests {
    func acc(ok latencies: [UInt64] = [], errors: [Outcome: Int] = [:]) -> WindowAccumulator {
        var a = WindowAccumulator()
        for l in latencies { a.record(.ok, latencyUs: l) }
        for (o, n) in errors { for _ in 0..<n { a.record(o, latencyUs: nil) } }
        return a
    }

    @Test func theRecentP99MergesTheRecentWindowsHistograms() throws {
        // 99 fast requests in one window and one slow in another: the p99 of the two together is the fast one's,
        // where the max of the windows' p99s would be the slow one.
        let fast = acc(ok: Array(repeating: 1_000, count: 99)), slow = acc(ok: [500_000])
        let p = try #require(TimelineBuilder.p99Us(merging: [fast, slow]))
        #expect((990...1_010).contains(p), "\(p)")
        let windows = [fast, slow].enumerated().map { $0.element.window(index: $0.offset, math: WindowMath(length: .milliseconds(100)), workload: "a") }
        #expect(windows.compactMap(\.p99Us).max()! > 400_000)
        #expect(TimelineBuilder.p99Us(merging: []) == nil)
        #expect(TimelineBuilder.p99Us(merging: [acc(errors: [.timeout: 5])]) == nil, "errors have no latency")
        #expect(TimelineBuilder.p99Us(merging: [acc(ok: [7])]) == 7, "capped at the max")
    }

    @Test func theBuilderKeepsTheLastSecondOfLatencyAcrossWorkloads() throws {
        var b = TimelineBuilder(names: ["ledger-writes", "replica-reads"], math: WindowMath(length: .milliseconds(100)), recentCapacity: 3)
        #expect(b.recentP99Us == nil)
        // Windows 0 and 1 slow (400 ms), then 2..4 fast (reads at 2 ms): the slow ones drop out of the last three.
        b.add(workload: 0, window: 0, acc(ok: [400_000]))
        b.add(workload: 0, window: 1, acc(ok: [400_000]))
        for i in 2..<5 { b.add(workload: 1, window: i, acc(ok: Array(repeating: 2_000, count: 10))) }
        b.finalize(below: 2)
        #expect(try #require(b.recentP99Us) > 390_000)
        b.finish(windowCount: 5)
        #expect(b.recentLatency.count == 3)
        let p = try #require(b.recentP99Us)
        #expect((1_980...2_020).contains(p), "\(p)")
        #expect(b.recent.map(\.ok) == [10, 10, 10])
    }

    @Test func theSnapshotsProgressCarriesTheP99sAndTheErrorsByOutcome() {
        let snap = LoadSnapshot(ok: 900, errors: [.connectionRefused: 60, .readOnly: 40], okPerSecond: 300, errorsPerSecond: 100,
                                p99Us: 3_000)
        var s = snap
        s.recentP99Us = 12_000
        let p = s.progress
        #expect(p.totalOk == 900 && p.totalErrors == 100)
        #expect(p.p99Us == 3_000 && p.recentP99Us == 12_000)
        #expect(p.errorsByOutcome == [.connectionRefused: 60, .readOnly: 40])
        #expect(p.recentErrorRate == 0.25)
        #expect(LoadSnapshot().progress.recentErrorRate == nil)
    }

    @Test func noLoadRunningHasNothingAcknowledged() async throws {
        let driver = LoadGeneratorDriver(endpoints: .init(writes: "host=rw port=5000", reads: "host=ro port=5001"), logger: Logger(label: "test"))
        #expect(await driver.acknowledgedSoFar().isEmpty)
        let g = try LoadGenerator(config: LoadConfig(workloads: [WorkloadConfig(kind: .ledger, conninfo: "host=rw", clients: 1,
                                                                                   mode: .open(rate: 10, arrival: .uniform))]),
                                  logger: Logger(label: "test"))
        #expect(g.acknowledgedSoFar().isEmpty)
    }
}
