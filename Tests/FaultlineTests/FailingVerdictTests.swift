import Testing
@testable import Faultline

/// Verdicts that had no test in which they fail: the error budget during the fault, p99 after the heal and
/// the DCS-loss demotion. Each is shown failing on a recording that breaks it, beside one that passes.
@Suite("Verdicts that must be able to fail")
struct FailingVerdictTests {
    @Test func errorBudgetDuringTheFaultFails() throws {
        var obs = Fixture.outage20s()
        // Recovered at 30.005 s; 5 error windows before the heal (40 s): 100 errors in the 99 windows from 30.1 s = 1,980 requests.
        obs.load = Fixture.writes(until: 60_000) { (10_000..<30_000).contains($0) || (35_000..<35_500).contains($0) }
        var s = killPrimary
        s.targets.errorBudgetDuring = 0.01
        let v = try verdict("error-budget-during", Assertions.evaluate(s, obs))
        #expect(v.result.status == .failed, "\(v.result)")
        #expect(v.result.measured == .ratio(100.0 / 1_980.0))
        s.targets.errorBudgetDuring = 0.10
        #expect(try verdict("error-budget-during", Assertions.evaluate(s, obs)).result.status == .passed)
    }

    @Test func p99AfterTheHealFails() throws {
        var obs = Fixture.outage20s()
        let fast = Fixture.writes(until: 60_000, p99Us: 2_000) { (10_000..<30_000).contains($0) }
        let slow = Fixture.writes(until: 60_000, p99Us: 600_000) { (10_000..<30_000).contains($0) }
        // Slow after the heal (40 s → 60 s), fast before.
        obs.load.windows = zip(fast.windows, slow.windows).map { f, s in f.startMs >= 40_000 ? s : f }
        var s = killPrimary
        s.targets.p99After = .milliseconds(250)
        let v = try verdict("p99-after", Assertions.evaluate(s, obs))
        #expect(v.result.status == .failed, "\(v.result)")
        #expect(v.result.measured == .ms(600))
        s.targets.p99After = .seconds(1)
        #expect(try verdict("p99-after", Assertions.evaluate(s, obs)).result.status == .passed)
    }

    func dcsObservations(acceptedUntilHeal: Bool) -> Observations {
        var obs = Observations(events: [
            TimelineEvent(atMs: 0, kind: .loadStarted),
            TimelineEvent(atMs: 10_000, kind: .faultInjected, detail: "stop etcd on n2, n3"),
            TimelineEvent(atMs: 40_000, kind: .healStarted),
            TimelineEvent(atMs: 42_000, kind: .healFinished),
        ])
        // Probe rounds every second; the primary n1 keeps accepting until 25 s, or until the heal.
        let until = acceptedUntilHeal ? 40_000 : 25_000
        obs.probes = ProbeReport(rounds: stride(from: 9_000, to: 50_000, by: 1_000).map { at in
            WriteProbeRound(atMs: at, accepted: at < until || at >= 42_000 ? ["n1"] : [], refused: [:])
        })
        return obs
    }

    @Test func dcsDemotionFailsWhenThePrimaryNeverStepsDown() throws {
        let p = try #require(dcsObservations(acceptedUntilHeal: true).probes)
        let v = FaultChecks.dcsDemotion(dcsObservations(acceptedUntilHeal: true), p)
        #expect(v.result.status == .failed, "\(v.result)")
        #expect(v.result.message?.contains("kept accepting writes") == true)
    }

    @Test func dcsDemotionPassesWhenThePrimaryStepsDown() throws {
        let obs = dcsObservations(acceptedUntilHeal: false)
        let v = FaultChecks.dcsDemotion(obs, try #require(obs.probes))
        #expect(v.result == .passed(measured: .ms(15_000), target: .ms(30_000)), "\(v.result)")
    }
}
