import Testing
@testable import Faultline
import Scenarios

@Suite("Assertions on recorded fixtures")
struct AssertionTests {
    @Test func twentySecondOutagePassesA30sRTOWithBreakdown() throws {
        let obs = Fixture.outage20s()
        let r = try #require(RecoveryAnalysis.analyze(obs, sustain: .seconds(1)))
        #expect(r.recoveryMs == 20_005)
        #expect(r.outageStartMs == 0)
        #expect(r.detectionMs == 400)
        #expect(r.promotionMs == 15_000)
        #expect(r.firstWriteAfterPromotionMs == 20_005)
        let v = try verdict("rto", Assertions.evaluate(killPrimary, obs))
        #expect(v.result == .passed(measured: .ms(20_005), target: .ms(30_000)))
        #expect(v.notes.contains("detection (old leader gone): +400 ms"))
    }

    @Test func twentySecondOutageFailsA15sRTO() throws {
        let s = killPrimary.applying([.init(parameter: .rto, value: .duration(.seconds(15)))])
        let v = try verdict("rto", Assertions.evaluate(s, Fixture.outage20s()))
        guard case .failed(let m, let t, let why) = v.result else { Issue.record("\(v.result)"); return }
        #expect(m == .ms(20_005))
        #expect(t == .ms(15_000))
        #expect(why.contains("20.0 s"))
        #expect(ExitStatus.of(Assertions.evaluate(s, Fixture.outage20s())) == .targetFailed)
    }

    @Test func aShortCleanFlapDoesNotCountAsRecovery() throws {
        // Outage 10–30 s with a 500 ms clean gap at 15 s: with 1 s sustain, recovery is still at 30 s.
        var obs = Fixture.outage20s()
        obs.load = Fixture.writes(until: 60_000) { (10_000..<30_000).contains($0) && !(15_000..<15_500).contains($0) }
        #expect(RecoveryAnalysis.analyze(obs, sustain: .seconds(1))?.recoveryMs == 20_005)
        #expect(RecoveryAnalysis.analyze(obs, sustain: .milliseconds(400))?.recoveryMs == 5_005)
    }

    @Test func noClientErrorsMeansZeroRTO() throws {
        var obs = Fixture.outage20s()
        obs.load = Fixture.writes(until: 60_000) { _ in false }
        let v = try verdict("rto", Assertions.evaluate(killPrimary, obs))
        #expect(v.result == .passed(measured: .ms(0), target: .ms(30_000)))
        #expect(v.notes.contains("no client-visible write errors after injection"))
    }

    @Test func lostWriteIsListed() throws {
        var obs = Fixture.outage20s()
        let victim = obs.load.acked[150]
        obs.readBack = ReadBack(checked: obs.load.acked.count, missing: [victim.id])
        let v = try verdict("lost-writes", Assertions.evaluate(killPrimary, obs))
        guard case .failed(let m, let t, let why) = v.result else { Issue.record("\(v.result)"); return }
        #expect(m == .count(1))
        #expect(t == .count(0))
        #expect(v.items == [victim.id])
        #expect(why.contains(victim.id))
        #expect(ExitStatus.of(Assertions.evaluate(killPrimary, obs)) == .targetFailed)
    }

    @Test func indeterminateWriteIsCountedApartNeverLost() throws {
        var obs = Fixture.outage20s()
        obs.load.indeterminate = [IndeterminateWrite(id: "w2-9", startMs: 10_010, giveUpMs: 15_010, reason: "connection lost during COMMIT")]
        // The indeterminate id is not on the primary: that is allowed, it was never acknowledged.
        obs.readBack = ReadBack(checked: obs.load.acked.count, missing: ["w2-9"])
        let v = try verdict("lost-writes", Assertions.evaluate(killPrimary, obs))
        #expect(v.result == .passed(measured: .count(0), target: .count(0)))
        #expect(v.items.isEmpty)
        #expect(v.notes.contains("1 indeterminate (COMMIT unanswered: neither lost nor safe)"))
    }

    @Test func neverRecoveringCluster() throws {
        let vs = Assertions.evaluate(killPrimary, Fixture.neverRecovers())
        let rto = try verdict("rto", vs)
        guard case .failed(nil, .ms(30_000), let why) = rto.result else { Issue.record("\(rto.result)"); return }
        #expect(why.contains("never recovered"))
        let awaitV = try verdict("await-new-primary", vs)
        #expect(awaitV.result.status == .failed)
        #expect(awaitV.result.message?.contains("n1=down") == true)
        #expect(try verdict("lost-writes", vs).result == .error("read-back failed: no primary to read from"))
        // The settle step never ran, and nothing aborted the run: that is a harness error, not a pass.
        #expect(try verdict("settle-cluster-healthy", vs).result.status == .error)
        #expect(try verdict("error-budget-after", vs).result == .skipped(reason: "the heal did not finish"))
        #expect(ExitStatus.of(vs) == .harnessError)
    }

    @Test func conditionVerdictsUseTheirTimeouts() throws {
        let vs = Assertions.evaluate(killPrimary, Fixture.outage20s())
        #expect(try verdict("await-new-primary", vs).result == .passed(measured: .ms(14_950), target: .ms(30_000)))
        #expect(try verdict("settle-cluster-healthy", vs).result == .passed(measured: .ms(12_000), target: .ms(60_000)))
        #expect(ExitStatus.of(vs) == .passed)
    }

    @Test func errorBudgetAfterHealCountsOnlyThatPhase() throws {
        var obs = Fixture.outage20s()
        // 3 bad windows after the heal (40 s → 60 s): 60 errors in 200 windows * 20 = 4000 requests → 1.5 %.
        obs.load = Fixture.writes(until: 60_000) { (10_000..<30_000).contains($0) || (45_000..<45_300).contains($0) }
        var s = killPrimary
        s.targets.errorBudgetAfter = 0.01
        s.targets.errorBudgetDuring = 0
        let vs = Assertions.evaluate(s, obs)
        let after = try verdict("error-budget-after", vs)
        #expect(after.result.status == .failed)
        #expect(after.result.measured == .ratio(60.0 / 4_000.0))
        // During the fault but after client recovery (30 s → 40 s) there were no errors.
        #expect(try verdict("error-budget-during", vs).result == .passed(measured: .ratio(0), target: .ratio(0)))
    }

    @Test func p99IsPhaseAware() throws {
        var obs = Fixture.outage20s()
        let fast = Fixture.writes(until: 60_000, p99Us: 2_000) { (10_000..<30_000).contains($0) }
        let slow = Fixture.writes(until: 60_000, p99Us: 900_000) { (10_000..<30_000).contains($0) }
        // Slow between recovery (30 s) and heal (40 s), fast after.
        obs.load.windows = zip(fast.windows, slow.windows).map { f, s in (30_000..<40_000).contains(f.startMs) ? s : f }
        var s = killPrimary
        s.targets.p99During = .milliseconds(100)
        s.targets.p99After = .milliseconds(100)
        let vs = Assertions.evaluate(s, obs)
        #expect(try verdict("p99-during", vs).result.status == .failed)
        #expect(try verdict("p99-during", vs).result.measured == .ms(900))
        #expect(try verdict("p99-after", vs).result == .passed(measured: .ms(2), target: .ms(100)))
    }

    @Test func weightedP99IgnoresARareSlowWindow() {
        var ws = (0..<200).map { TimelineWindow(startMs: $0 * 100, workload: "all", ok: 20, p99Us: 1_000) }
        ws[7].p99Us = 5_000_000
        #expect(Assertions.weightedP99(ws) == 1_000)
        for i in 0..<3 { ws[i].p99Us = 5_000_000 }
        #expect(Assertions.weightedP99(ws) == 5_000_000)
    }

    @Test func harnessErrorMakesEverythingElseSkippedAndExits3() throws {
        var obs = Fixture.outage20s()
        obs.harnessErrors = ["environment: patronictl timed out"]
        obs.readBack = nil
        let vs = Assertions.evaluate(killPrimary, obs)
        #expect(vs.first?.id == "harness")
        #expect(vs.first?.result == .error("environment: patronictl timed out"))
        #expect(try verdict("lost-writes", vs).result.status == .skipped)
        #expect(ExitStatus.of(vs) == .harnessError)
    }

    @Test func cancelledRunIsAnError() {
        var obs = Fixture.outage20s()
        obs.cancelled = true
        #expect(Assertions.harness(obs)?.result.status == .error)
        #expect(ExitStatus.of(Assertions.evaluate(killPrimary, obs)) == .harnessError)
    }
}

@Suite("Exit codes")
struct ExitStatusTests {
    func v(_ r: VerdictResult) -> Verdict { Verdict(id: "x", title: "x", result: r) }
    let pass = VerdictResult.passed(measured: .ms(1), target: .ms(2))
    let fail = VerdictResult.failed(measured: .ms(3), target: .ms(2), why: "slow")

    @Test func mapping() {
        #expect(ExitStatus.of([v(pass), v(.skipped(reason: "no netem"))]).rawValue == 0)
        #expect(ExitStatus.of([v(pass), v(fail)]).rawValue == 1)
        #expect(ExitStatus.of([v(fail), v(.error("env down"))]).rawValue == 3)
        #expect(ExitStatus.of([]).rawValue == 3)
        #expect(ExitStatus.badInput.rawValue == 2)
    }

    @Test func judgeIsAnUpperBound() {
        #expect(VerdictResult.judge(.ms(2), atMost: .ms(2), why: "") == .passed(measured: .ms(2), target: .ms(2)))
        #expect(VerdictResult.judge(.ms(3), atMost: .ms(2), why: "w").status == .failed)
    }
}
