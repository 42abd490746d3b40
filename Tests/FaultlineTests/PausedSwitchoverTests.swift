import Foundation
import Logging
import Testing
@testable import Faultline
import Scenarios

/// The pooler during a planned switchover: the pause-pooler fault (its RESUME in the ledger before the PAUSE, undone
/// by the run's heal, by `faultline heal` after a crash, and by the full heal), the new-primary-routed condition, and
/// the write-errors and longest-write-wait verdicts with their controls.
@Suite("Paused switchover")
struct PausedSwitchoverTests {
    typealias Harness = RunnerTests.Harness

    @Test func theScenarioPausesSwitchesOverAndResumesOnceRouted() async throws {
        let h = Harness()
        let obs = await h.runner.run(switchoverPaused)
        let j = h.journal.all
        let recorded = try #require(h.journal.index("ledger record RESUME the pooler"))
        let paused = try #require(h.journal.index("apply PAUSE the pooler"))
        let switched = try #require(h.journal.index("apply switchover n1 -> n2"))
        let resumed = try #require(h.journal.index("revert RESUME the pooler"))
        let healed = try #require(j.firstIndex(of: "heal"))
        #expect(recorded < paused, "the reversal is in the ledger before the pause takes effect")
        #expect(paused < switched && switched < resumed && resumed < healed, "\(j)")
        #expect(await h.cluster.poolerPaused == false)
        #expect(try await h.ledger.entries().isEmpty)
        // Routed 700 ms after the switchover, where the topology shows the new primary at 500 ms: the condition waits
        // for the read-write endpoint, not for Patroni.
        let routed = try #require(obs.conditions.first { $0.condition == .newPrimaryRouted })
        let switchAt = try #require(obs.events.first { $0.kind == .faultInjected && $0.detail?.hasPrefix("switchover") == true }?.atMs)
        let met = try #require(routed.metAtMs)
        #expect(met - switchAt >= 700, "met \(met - switchAt) ms after the switchover")
        #expect(met - switchAt < 1_000)
        #expect(obs.primaryAtInjection == "n1")
    }

    @Test func newPrimaryRoutedHoldsOnlyWhenTheEndpointReachesTheNewPrimary() {
        let ctx = ConditionContext(primaryAtInjection: "n1", primaryLostSinceInjection: true)
        let after = Topology(members: [Member(name: "n1", role: .syncStandby), Member(name: "n2", role: .primary)])
        #expect(Condition.newPrimaryRouted.holds(routed: "n2", in: after, ctx))
        #expect(!Condition.newPrimaryRouted.holds(routed: "n1", in: after, ctx), "still routed to the old primary")
        #expect(!Condition.newPrimaryRouted.holds(routed: nil, in: after, ctx), "routed to no primary")
        let before = Topology(members: [Member(name: "n1", role: .primary), Member(name: "n2", role: .syncStandby)])
        #expect(!Condition.newPrimaryRouted.holds(routed: "n2", in: before, ctx), "Patroni does not agree yet")
        #expect(!Condition.newPrimaryRouted.holds(in: after, ctx), "never from the topology alone")
        #expect(!Condition.newPrimary.holds(routed: "n2", in: after, ctx))
    }

    @Test func anEnvironmentThatCannotReadRoutingNeverMeetsIt() async throws {
        // The protocol's default: ReadingUnsupported. The await times out and says why.
        let s = Scenario("routed-unreadable") {
            Load(.ledgerWrites(rate: 5)); SteadyState(for: .zero)
            Inject(.switchover(to: .syncStandby)); Await(.newPrimaryRouted, within: .seconds(2))
        }
        let h = Harness()
        let obs = await h.runner.run(s)
        let r = try #require(obs.conditions.first)
        #expect(r.metAtMs != nil, "the fake reads routing")
        let blind = NoRouting(inner: h.cluster)
        let clock = VirtualClock()
        var runner = Runner(environment: blind, load: h.load, ledger: InMemoryLedger(journal: h.journal), clock: clock, runId: "r2",
                            logger: Logger(label: "test"))
        runner.safetyWait = clock.passiveWait
        let obs2 = await runner.run(s)
        let r2 = try #require(obs2.conditions.first)
        #expect(r2.metAtMs == nil)
        #expect(r2.lastSeen.contains("routing unreadable"), "\(r2.lastSeen)")
    }

    @Test func aCrashedHarnessLeavesTheResumeInTheLedgerForFaultlineHeal() async throws {
        let h = Harness()
        try await h.cluster.apply(.pausePooler)
        let entry = FaultLedgerEntry(id: "dead/0", runId: "dead", scenario: "switchover-paused", action: .pausePooler, reversal: .resumePooler)
        try await h.ledger.record(entry)
        #expect(await h.cluster.poolerPaused)
        let report = await LedgerHeal.run(ledger: h.ledger, environment: h.cluster)  // `faultline heal`: every entry
        #expect(report.failure == nil && !report.undoFailed)
        #expect(h.journal.all.contains("revert RESUME the pooler"))
        #expect(await h.cluster.poolerPaused == false)
        #expect(try await h.ledger.entries().isEmpty)
    }

    @Test func theFaultAndItsReversalRoundTripThroughTheLedgerCodec() throws {
        let entry = FaultLedgerEntry(id: "r/0", runId: "r", scenario: "s", action: .pausePooler, reversal: .resumePooler)
        let data = try JSONEncoder().encode(entry)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains(#""kind":"pause-pooler""#) && text.contains(#""kind":"resume-pooler""#), "\(text)")
        #expect(try JSONDecoder().decode(FaultLedgerEntry.self, from: data) == entry)
        let spec = try JSONDecoder().decode(FaultSpec.self, from: Data(#"{"kind":"pause-pooler"}"#.utf8))
        #expect(spec == .pausePooler)
        #expect(try FaultSpec.pausePooler.resolve(in: Topology(members: [])) == ResolvedFault(action: .pausePooler, reversal: .resumePooler))
        #expect(FaultAction.pausePooler.members == ["pooler"])
    }

    @Test func writesThroughThePoolerFromTheDSLAndFromSet() throws {
        #expect(switchoverPaused.writesVia == .pooler)
        #expect(switchover.writesVia == nil)
        let o = try ParameterOverride.parseAll(["writes-via=pooler", "write-errors=0", "longest-wait=10s"])
        let s = switchover.applying(o)
        #expect(s.writesVia == .pooler && s.targets.writeErrors == 0 && s.targets.longestWriteWait == .seconds(10))
        #expect(switchoverPaused.applying(try ParameterOverride.parseAll(["writes-via=direct"])).writesVia == nil)
        #expect(throws: InputError.self) { try ParameterOverride.parse("writes-via=pgbouncer") }
        let round = try JSONDecoder().decode(Scenario.self, from: JSONEncoder().encode(s))
        #expect(round == s)
    }

    // MARK: verdicts

    /// Writes through a switchover from 10 s: `waitMs` of waiting (a paused pooler) or, with `errors`, failing.
    static func recording(errors: Bool, waitMs: Int) -> Observations {
        var load = Fixture.writes(until: 30_000) { errors && (10_000..<14_500).contains($0) }
        if !errors {  // the writes started while paused are acknowledged once it resumes
            load.acked = load.acked.map { w in
                guard (10_000.0..<14_500.0).contains(w.startMs) else { return w }
                var w = w
                w.ackMs = 10_000 + Double(waitMs) + (w.startMs - 10_000) / 100
                return w
            }
        }
        var e = [TimelineEvent(atMs: 0, kind: .loadStarted),
                 TimelineEvent(atMs: 10_000, kind: .faultInjected, member: "pooler", detail: "PAUSE the pooler"),
                 TimelineEvent(atMs: 10_100, kind: .faultInjected, member: "n1", detail: "switchover n1 -> n2"),
                 TimelineEvent(atMs: 14_000, kind: .healStarted), TimelineEvent(atMs: 20_000, kind: .healFinished)]
        e.sort { $0.atMs < $1.atMs }
        return Observations(events: e, load: load, readBack: ReadBack(checked: load.acked.count, missing: []),
                            primaryAtInjection: "n1", loadStoppedAtMs: 30_000)
    }

    @Test func thePausedSwitchoverPassesWithItsLongestWaitReported() throws {
        let vs = Assertions.evaluate(switchoverPaused, Self.recording(errors: false, waitMs: 4_700))
        let errors = try verdict("write-errors", vs)
        #expect(errors.result == .passed(measured: .count(0), target: .count(0)))
        let wait = try verdict("longest-write-wait", vs)
        #expect(wait.result.status == .passed)
        #expect(wait.result.measured == .ms(4_700), "the first write of the pause waited until it resumed")
        #expect(wait.notes.contains { $0.contains("started +10.0 s") })
    }

    /// The control: the plain switchover through the pooler, judged by the same targets, fails write-errors.
    @Test func thePlainSwitchoverThroughThePoolerFailsWriteErrors() throws {
        let plain = switchover.applying(try ParameterOverride.parseAll(["writes-via=pooler", "write-errors=0", "longest-wait=10s"]))
        let vs = Assertions.evaluate(plain, Self.recording(errors: true, waitMs: 0))
        let errors = try verdict("write-errors", vs)
        #expect(errors.result.status == .failed)
        #expect(errors.result.measured == .count(45 * 20), "45 windows of 20 errors, 10.0 s to 14.5 s")
        #expect(ExitStatus.of([errors]) == .targetFailed)
        #expect(errors.result.message?.contains("connection_refused=900") == true, "\(errors.result)")
    }

    /// The control of the longest wait: a pause that outlasts the target fails it, with 0 errors.
    @Test func aWaitLongerThanTheTargetFailsLongestWait() throws {
        let vs = Assertions.evaluate(switchoverPaused, Self.recording(errors: false, waitMs: 12_000))
        #expect(try verdict("write-errors", vs).result.status == .passed)
        let wait = try verdict("longest-write-wait", vs)
        #expect(wait.result.status == .failed)
        #expect(wait.result.measured == .ms(12_000))
    }

    @Test func noInjectionSkipsBoth() throws {
        var obs = Self.recording(errors: false, waitMs: 4_000)
        obs.events.removeAll { $0.kind == .faultInjected }
        let vs = WaitChecks.evaluate(switchoverPaused, obs)
        #expect(vs.map(\.result.status) == [.skipped, .skipped])
    }
}

/// The fake cluster, less its routing reading: `routedPrimary` is the protocol's default (ReadingUnsupported).
struct NoRouting: Environment {
    let inner: FakeCluster
    func topology() async throws -> Topology { try await inner.topology() }
    func apply(_ action: FaultAction) async throws { try await inner.apply(action) }
    func revert(_ reversal: Reversal) async throws { try await inner.revert(reversal) }
    func heal() async throws { try await inner.heal() }
}
