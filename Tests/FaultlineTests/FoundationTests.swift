import Logging
import Scenarios
import Testing
@testable import Faultline

/// The one heal, the one settle rule, the one judgement and the stop request.
@Suite("Foundation: heal, stages, judgement, stop")
struct FoundationTests {
    func entry(_ run: String, _ step: Int, _ member: String) -> FaultLedgerEntry {
        FaultLedgerEntry(id: "\(run)/\(step)", runId: run, scenario: "s", action: .killNode(member: member),
                         reversal: .startNode(member: member))
    }

    func cluster(_ mode: FakeCluster.Mode = .normal, _ journal: Journal) -> FakeCluster {
        let (_, cont) = AsyncStream<Void>.makeStream()
        return FakeCluster(clock: VirtualClock(), journal: journal, mode: mode, applyStarted: cont)
    }

    @Test func healUndoesNewestFirstThenHealsThenClears() async throws {
        let j = Journal()
        let ledger = InMemoryLedger(journal: j, stored: [entry("a", 1, "n1"), entry("b", 1, "n2"), entry("b", 2, "n3")])
        let r = await LedgerHeal.run(ledger: ledger, environment: cluster(.normal, j))
        #expect(r.failure == nil)
        #expect(r.undone.map(\.id) == ["b/2", "b/1", "a/1"])
        let reverts = j.all.filter { $0.hasPrefix("revert") }
        #expect(reverts == ["revert start patroni on n3", "revert start patroni on n2", "revert start patroni on n1"])
        let heal = try #require(j.index("heal")), firstRemove = try #require(j.index("ledger remove"))
        #expect(heal > j.all.lastIndex { $0.hasPrefix("revert") }!, "heal after every revert")
        #expect(firstRemove > heal, "entries cleared only after the heal")
        #expect(try await ledger.entries().isEmpty)
    }

    @Test func healOfOneRunLeavesOtherRunsEntries() async throws {
        let j = Journal()
        let ledger = InMemoryLedger(journal: j, stored: [entry("a", 1, "n1"), entry("b", 1, "n2")])
        let r = await LedgerHeal.run(ledger: ledger, environment: cluster(.normal, j), runId: "b")
        #expect(r.undone.map(\.id) == ["b/1"])
        #expect(try await ledger.entries().map(\.id) == ["a/1"])
    }

    @Test func failedHealKeepsEveryEntry() async throws {
        let j = Journal()
        let ledger = InMemoryLedger(journal: j, stored: [entry("a", 1, "n1")])
        let r = await LedgerHeal.run(ledger: ledger, environment: cluster(.healThrows, j))
        #expect(r.failure != nil)
        #expect(try await ledger.entries().map(\.id) == ["a/1"], "kept for a later `faultline heal`")
    }

    @Test func settleStartsAtHealAndEndsAtTheNextInject() {
        let s = Scenario("s") {
            Load(.ledgerWrites(rate: 10))
            Inject(.killNode(.primary))
            Await(.newPrimary, within: .seconds(30))
            Heal()
            Expect(.clusterHealthy(members: 3, sync: 1))
            Inject(.killPostgres(.primary))
            Expect(.primaryRecovered, within: .seconds(10))
        }
        #expect(s.stepStages == [.fault, .fault, .settle, .settle, .fault, .fault])
        #expect((0..<s.steps.count).map { s.conditionLabel(at: $0) } == [nil, "await", nil, "settle", nil, "expect"])
        #expect(s.countsFrom(step: 1) == "the injection")
        #expect(s.countsFrom(step: 3) == "the heal's end")
        let titles = Assertions.conditions(s, Observations()).map(\.title)
        #expect(titles.count == 3, "\(titles)")
        #expect(titles[2] == "Expect (from the injection): primary recovered")
        #expect(titles[0] == "Await (from the injection): new primary")
        #expect(titles[1].hasPrefix("Settle (from the heal's end): "))
    }

    @Test func judgementHoldsTheVerdictsTheReportCarries() {
        let obs = Fixture.outage20s()
        let j = Judgement(killPrimary, obs)
        #expect(j.verdicts == Assertions.evaluate(killPrimary, obs))
        #expect(j.recovery == RecoveryAnalysis.analyze(obs, sustain: killPrimary.targets.sustain))
        let r = RunReport(runId: "r", scenario: killPrimary, environment: "local", startedAt: "t", durationMs: 1,
                          observations: obs, judgement: j)
        #expect(r.verdicts == j.verdicts && r.exitCode == j.exitStatus.rawValue && r.status == j.status)
        let skipped = Verdict(id: "x", title: "x", result: .skipped(reason: "no netem"))
        #expect(Judgement(verdicts: [skipped], recovery: nil).status == "skipped")
    }

    @Test func stopRequestWakesWaitersAndLaterCallers() async {
        let stop = StopRequest()
        async let woke: Void = stop.wait()
        stop.request()
        await woke
        #expect(stop.isRequested)
        await stop.wait()  // already requested: returns at once
    }

    @Test func stopWaitEndsWhenItsTaskIsCancelled() async {
        let stop = StopRequest()
        let t = Task { await stop.wait() }
        t.cancel()
        await t.value
        #expect(!stop.isRequested)
    }
}

@Suite("Probe verdicts without probe rounds")
struct ProbeVerdictsWithoutRoundsTests {
    @Test func splitBrainAndDcsDemotionAreSkippedNotDropped() throws {
        let s = try Catalogue.lookup("dcs-quorum-loss")
        var obs = Observations()
        obs.probes = ProbeReport()
        let vs = FaultChecks.evaluate(s, obs)
        let sb = try #require(vs.first { $0.id == "split-brain" }, "\(vs.map(\.id))")
        #expect(sb.result.status == .skipped)
        #expect(sb.result.message?.contains("no round") == true)
        let dd = try #require(vs.first { $0.id == "dcs-demotion" }, "\(vs.map(\.id))")
        #expect(dd.result.status == .skipped)
    }

    @Test func withRoundsTheyAreJudged() throws {
        let s = try Catalogue.lookup("kill-primary")
        var obs = Observations()
        obs.probes = ProbeReport(rounds: [WriteProbeRound(atMs: 1_000, accepted: ["n1", "n2"], refused: [:])])
        let sb = try #require(FaultChecks.evaluate(s, obs).first { $0.id == "split-brain" })
        #expect(sb.result.status == .failed)
    }
}
