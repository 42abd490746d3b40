import Faultline
import Foundation
import Testing
@testable import FaultlineLoad

@Suite struct WindowMathTests {
    let math = WindowMath(length: .milliseconds(100))

    @Test func indexing() {
        #expect(math.index(ofNs: 0) == 0)
        #expect(math.index(ofNs: 99_999_999) == 0)
        #expect(math.index(ofNs: 100_000_000) == 1)
        #expect(math.index(ofNs: 1_234_000_000) == 12)
        #expect(math.index(ofNs: -5) == 0)
        #expect(math.startMs(12) == 1200)
        #expect(math.lengthMs == 100)
    }

    @Test func countCoversPartialLastWindow() {
        #expect(math.count(coveringNs: 0) == 0)
        #expect(math.count(coveringNs: 1) == 1)
        #expect(math.count(coveringNs: 1_000_000_000) == 10)
        #expect(math.count(coveringNs: 1_000_000_001) == 11)
    }
}

@Suite struct HistogramTests {
    @Test func mergedWorkerHistogramsEqualOneHistogramOfAllValues() {
        var workers = (0..<4).map { _ in makeRunHistogram() }
        var reference = makeRunHistogram()
        var rng = SplitMix64(seed: 1)
        for i in 0..<40_000 {
            let v = 100 + rng.next() % 50_000
            workers[i % 4].record(v)
            reference.record(v)
        }
        var merged = makeRunHistogram()
        for w in workers { merged.add(w) }
        #expect(merged.totalCount == 40_000)
        #expect(merged.summary() == reference.summary())
        for p in [50.0, 90, 99, 99.9, 100] { #expect(merged.valueAtPercentile(p) == reference.valueAtPercentile(p)) }
    }

    @Test func summaryPercentilesOfAKnownDistribution() throws {
        var h = makeRunHistogram()
        for v in 1...1000 { h.record(UInt64(v)) }  // 1..1000 µs, one each
        let s = try #require(h.summary())
        #expect(s.count == 1000)
        #expect(s.p50Us == 500)
        #expect(s.p95Us == 950)
        #expect(s.p99Us == 990)
        #expect(s.p999Us == 999)
        #expect(s.maxUs == 1000)
        #expect(makeRunHistogram().summary() == nil)
    }

    @Test func clampsOutOfRangeLatencies() {
        #expect(clampMicros(0) == 1)
        #expect(clampMicros(-3) == 1)
        #expect(clampMicros(Int64.max) == maxTrackableMicros)
    }
}

@Suite struct TimelineBuilderTests {
    func acc(ok latencies: [UInt64] = [], errors: [Outcome: Int] = [:]) -> WindowAccumulator {
        var a = WindowAccumulator()
        for l in latencies { a.record(.ok, latencyUs: l) }
        for (o, n) in errors { for _ in 0..<n { a.record(o, latencyUs: nil) } }
        return a
    }

    @Test func mergesWorkersAndFillsEmptyWindows() throws {
        var b = TimelineBuilder(names: ["ledger-writes"], math: WindowMath(length: .milliseconds(100)))
        b.add(workload: 0, window: 0, acc(ok: [1000, 2000]))
        b.add(workload: 0, window: 0, acc(ok: [3000], errors: [.connectionLost: 1]))
        b.add(workload: 0, window: 3, acc(errors: [.readOnly: 2, .indeterminate: 1]))
        b.finish(windowCount: 5)
        let w = b.finalized
        #expect(w.map(\.startMs) == [0, 100, 200, 300, 400])
        #expect(w.allSatisfy { $0.lengthMs == 100 && $0.workload == "ledger-writes" })
        #expect(w[0].ok == 3)
        #expect(w[0].errors == [.connectionLost: 1])
        #expect(w[0].maxUs == 3000)
        let p50 = try #require(w[0].p50Us)
        #expect((1990...2010).contains(p50))  // 2-digit histogram: within 1 %
        #expect(w[0].p99Us == 3000)  // capped at the exact max
        #expect(w[1].total == 0 && w[1].p50Us == nil && w[1].maxUs == nil)
        #expect(w[3].ok == 0 && w[3].errors == [.readOnly: 2, .indeterminate: 1] && w[3].p99Us == nil)
    }

    @Test func finalizeStopsAtTheWatermarkAndHighestSeenWindow() {
        var b = TimelineBuilder(names: ["a"], math: WindowMath(length: .milliseconds(100)))
        b.add(workload: 0, window: 2, acc(ok: [10]))
        b.finalize(below: 1)
        #expect(b.finalized.count == 1 && b.nextIndex == 1)
        b.finalize(below: .max)  // capped just past the highest window seen
        #expect(b.finalized.count == 3 && b.nextIndex == 3)
        #expect(b.finalized[2].ok == 1)
        #expect(b.lateFlushes == 0)
        b.add(workload: 0, window: 1, acc(ok: [10]))  // too late: lands in the next open window
        #expect(b.lateFlushes == 1)
        b.finish(windowCount: 0)
        #expect(b.finalized.count == 4 && b.finalized[3].ok == 1)
    }

    @Test func allWorkloadWindowWhenSeveral() {
        var b = TimelineBuilder(names: ["ledger-writes", "replica-reads"], math: WindowMath(length: .milliseconds(100)))
        b.add(workload: 0, window: 0, acc(ok: [100], errors: [.timeout: 1]))
        b.add(workload: 1, window: 0, acc(ok: [200, 300]))
        b.finish(windowCount: 1)
        #expect(b.finalized.map(\.workload) == ["ledger-writes", "replica-reads", "all"])
        #expect(b.finalized[2].ok == 3 && b.finalized[2].errors == [.timeout: 1] && b.finalized[2].maxUs == 300)
        #expect(b.cumulative[0].ok == 1 && b.cumulative[1].ok == 2)
        #expect(b.recent.count == 1 && b.recent[0].ok == 3 && b.recent[0].errors == 1)
    }

    @Test func recentKeepsTheLastWindowsOnly() {
        var b = TimelineBuilder(names: ["a"], math: WindowMath(length: .milliseconds(100)), recentCapacity: 3)
        for i in 0..<6 { b.add(workload: 0, window: i, acc(ok: Array(repeating: 1, count: i))) }
        b.finish(windowCount: 6)
        #expect(b.recent.map(\.ok) == [3, 4, 5])
    }

    @Test func accumulatorResetAndMerge() {
        var a = acc(ok: [5, 7], errors: [.timeout: 2])
        var b = acc(ok: [9])
        b.merge(a)
        #expect(b.ok == 3 && b.errorCount == 2 && b.maxUs == 9 && b.histogram.totalCount == 3)
        a.reset()
        #expect(a.isEmpty && a.histogram.totalCount == 0 && a.maxUs == 0)
    }
}

@Suite struct ExportTests {
    @Test func timelineLinesRoundTripWithOutcomeKeys() throws {
        let w = TimelineWindow(startMs: 100, workload: "ledger-writes", ok: 5, errors: [.readOnly: 2], p50Us: 800, p95Us: 900, p99Us: 950, maxUs: 990)
        let data = try LoadExport.jsonLines([w, w])
        let text = try #require(String(data: data, encoding: .utf8))
        let lines = text.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[0].contains(#""errors":{"read_only":2}"#))
        let back = try JSONDecoder().decode(TimelineWindow.self, from: Data(lines[0].utf8))
        #expect(back == w)
    }

    @Test func observationsDecodeWithoutTheNewerFields() throws {
        let old = #"{"windows":[],"acked":[{"id":"w0-1","startMs":1,"ackMs":2,"server":"s"}],"indeterminate":[],"latency":{}}"#
        let obs = try JSONDecoder().decode(LoadObservations.self, from: Data(old.utf8))
        #expect(obs.acked.count == 1 && obs.runID == nil && obs.totals.isEmpty && obs.notes.isEmpty)
    }

    @Test func summaryThroughput() {
        let obs = LoadObservations(durationMs: 2000, totals: ["tpcb": WorkloadTotals(ok: 1001)])
        #expect(LoadExport.summary(of: obs).throughput["tpcb"] == 500.5)
    }
}

@Suite struct ConfigValidationTests {
    func config(_ w: WorkloadConfig) -> LoadConfig { LoadConfig(workloads: [w], runID: "t1", seed: 1) }

    @Test func acceptsAReasonableConfig() throws {
        try config(WorkloadConfig(kind: .ledger, conninfo: "host=x", clients: 8, mode: .open(rate: 500, arrival: .uniform))).validate()
    }

    @Test func rejectsAbsurdValues() {
        let bad: [LoadConfig] = [
            LoadConfig(workloads: [], runID: "t"),
            config(WorkloadConfig(kind: .ledger, conninfo: "host=x", clients: 0)),
            config(WorkloadConfig(kind: .ledger, conninfo: "host=x", clients: 10_000)),
            config(WorkloadConfig(kind: .ledger, conninfo: "host=x", mode: .open(rate: 0, arrival: .uniform))),
            config(WorkloadConfig(kind: .ledger, conninfo: "host=x", mode: .open(rate: .infinity, arrival: .uniform))),
            config(WorkloadConfig(kind: .ledger, conninfo: "host=x", mode: .open(rate: 1e9, arrival: .uniform))),
            config(WorkloadConfig(kind: .ledger, conninfo: "  ")),
            config(WorkloadConfig(kind: .custom, conninfo: "host=x", sql: "  \n")),
            LoadConfig(workloads: [WorkloadConfig(kind: .ledger, conninfo: "host=x")], runID: "bad id; drop table"),
            {
                var c = config(WorkloadConfig(kind: .ledger, conninfo: "host=x"))
                c.statementTimeout = .seconds(3600)
                return c
            }(),
            {
                var c = config(WorkloadConfig(kind: .ledger, conninfo: "host=x"))
                c.maxDuration = .seconds(86_400)
                return c
            }(),
            LoadConfig(workloads: [WorkloadConfig(kind: .ledger, conninfo: "host=x"), WorkloadConfig(kind: .ledger, conninfo: "host=y", name: "other")], runID: "t"),
        ]
        for c in bad { #expect(throws: LoadConfigError.self) { try c.validate() } }
    }

    @Test func progressLineShowsRateErrorsAndP99() {
        let s = LoadSnapshot(elapsed: .milliseconds(12_300), ok: 100, errors: [.readOnly: 2, .connectionLost: 3],
                             okPerSecond: 1234, p99Us: 4200, acked: 10, indeterminate: 1, running: true)
        let line = s.progressLine
        #expect(line.contains("12.3s"))
        #expect(line.contains("1234 ok/s"))
        #expect(line.contains("errors 5 (connection_lost 3, read_only 2)"))
        #expect(line.contains("p99 4.20 ms"))
        #expect(line.contains("indeterminate 1"))
    }
}
