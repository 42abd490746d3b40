import Foundation
import Testing
@testable import Faultline
@testable import FaultlineReports
import Scenarios

/// A cluster that does not recover after every fault was undone is the system's failure (exit 1), not the
/// harness's (exit 3); the writes are still read back, on every member that answers.
@Suite("Recovery failure: the cluster did not settle after the heal")
struct RecoveryFailureTests {
    typealias Harness = RunnerTests.Harness

    let members = ["n1": "host=n1", "n2": "host=n2", "n3": "host=n3"]
    var a: String { Fixture.shortOutage.acked[42].id }
    var b: String { Fixture.shortOutage.acked[7].id }

    func verdict(_ id: String, _ vs: [Verdict]) throws -> Verdict {
        try #require(vs.first { $0.id == id }, "no verdict \(id) in \(vs.map(\.id))")
    }

    // MARK: state machine

    func drive(_ s: Scenario, _ event: (RunStateMachine.Action) -> RunStateMachine.Event) -> ([RunStateMachine.Action], RunStateMachine) {
        var m = RunStateMachine(scenario: s)
        var actions = [m.start()]
        while actions.last != .finish, actions.count < 50 { actions.append(m.handle(event(actions.last!))) }
        return (actions, m)
    }

    @Test func stateMachineSkipsTheRestThenStopsTheLoadAndReadsBack() {
        let (a, m) = drive(killPrimary) { $0 == .heal(step: 2) ? .clusterDidNotRecover("no leader") : .completed }
        #expect(Array(a.suffix(4)) == [.heal(step: 2), .stopLoad, .verifyWrites, .finish], "\(a)")
        #expect(!a.contains(.heal(step: nil)), "every fault was undone: no second heal")
        #expect(!a.contains { if case .observe = $0 { true } else { false } })
        #expect(!a.contains { if case .await(step: 3, _, _) = $0 { true } else { false } }, "the settle step is skipped")
        #expect(m.abort == nil)
        #expect(m.recoveryFailure == "no leader")
        #expect(!m.healOwed && !m.loadRunning)
    }

    @Test func stateMachineAfterAnAbortStillSkipsTheReadBack() {
        let (a, m) = drive(killPrimary) {
            if case .inject = $0 { return .failed("ssh down") }
            return $0 == .heal(step: nil) ? .clusterDidNotRecover("no leader") : .completed
        }
        #expect(Array(a.suffix(3)) == [.heal(step: nil), .stopLoad, .finish])
        #expect(m.abort == .failed("ssh down"))
        #expect(m.recoveryFailure == "no leader")
    }

    // MARK: the one heal

    @Test func ledgerHealTellsTheSystemsFailureFromTheHarnesss() async throws {
        let entry = FaultLedgerEntry(id: "a/1", runId: "a", scenario: "s", action: .killNode(member: "n1"),
                                     reversal: .startNode(member: "n1"))
        for (mode, system) in [(FakeCluster.Mode.healDoesNotRecover, true), (.revertFailsHealDoesNotRecover, false), (.healThrows, false)] {
            let j = Journal()
            let ledger = InMemoryLedger(journal: j, stored: [entry])
            let (_, cont) = AsyncStream<Void>.makeStream()
            let r = await LedgerHeal.run(ledger: ledger, environment: FakeCluster(clock: VirtualClock(), journal: j, mode: mode, applyStarted: cont))
            #expect(r.failure != nil, "\(mode)")
            #expect((r.recoveryFailure == "PostgreSQL not running on n1 after the heal") == system, "\(mode): \(r)")
            #expect(r.undoFailed == (mode == .revertFailsHealDoesNotRecover))
            #expect(try await ledger.entries().map(\.id) == ["a/1"], "kept for a later `faultline heal`")
        }
    }

    // MARK: runs

    @Test func clusterThatDoesNotRecoverFailsTheRunAndWritesAreJudgedOnEveryMember() async throws {
        // n1 (the old primary) never answers; n2 lacks a, n3 lacks a and b: b is on n2, so only a is lost.
        let h = Harness(mode: .healDoesNotRecover, members: members, memberMissing: ["host=n2": [a], "host=n3": [a, b]])
        let obs = await h.runner.run(killPrimary)
        #expect(obs.harnessErrors.isEmpty, "\(obs.harnessErrors)")
        let f = try #require(obs.recoveryFailure)
        #expect(f.message == "PostgreSQL not running on n1 after the heal")
        #expect(f.step == 2)
        #expect(f.lastSeen.contains("n2"), "the topology after the heal: \(f.lastSeen)")
        #expect(h.journal.all.filter { $0 == "heal" }.count == 1, "no second heal: \(h.journal.all)")
        #expect(h.journal.index("load off")! < h.journal.index("verify")!)
        #expect(!h.journal.all.contains { $0.hasPrefix("verify") && !$0.contains(" on ") }, "not read on the primary")

        let rb = try #require(obs.readBack)
        #expect(rb.error == nil)
        #expect(rb.missing == [a])
        #expect(rb.checked == obs.load.acked.count)
        #expect(rb.members == [MemberReadBack(member: "n1", error: "connection to host=n1 refused"),
                               MemberReadBack(member: "n2", missing: 1), MemberReadBack(member: "n3", missing: 2)])
        #expect(rb.membersBecause == "the cluster did not recover after the heal")

        let vs = Assertions.evaluate(killPrimary, obs)
        #expect(ExitStatus.of(vs) == .targetFailed, "\(vs.map { "\($0.id)=\($0.result.status)" })")
        #expect(!vs.contains { $0.id == "harness" })
        let recovered = try verdict("cluster-recovered", vs)
        #expect(recovered.result.status == .failed)
        #expect(recovered.result.message?.contains("PostgreSQL not running on n1 after the heal") == true)
        #expect(recovered.result.message?.contains("last seen: \(f.lastSeen)") == true)
        let lost = try verdict("lost-writes", vs)
        #expect(lost.result.status == .failed)
        #expect(lost.items == [a])
        #expect(lost.notes.contains { $0.contains("every member that answered") && $0.contains("did not recover") }, "\(lost.notes)")
        #expect(lost.notes.contains { $0.hasPrefix("did not answer") && $0.contains("n1") }, "\(lost.notes)")
        #expect(try verdict("await-new-primary", vs).result.status == .passed)
        let settle = try verdict("settle-cluster-healthy", vs)
        #expect(settle.result.status == .skipped)
        #expect(settle.result.message?.contains("did not recover") == true)
    }

    @Test func anIdOnOneMemberOnlyIsNotLost() async throws {
        let h = Harness(mode: .healDoesNotRecover, members: members,
                        memberMissing: ["host=n1": [a, b], "host=n2": [a], "host=n3": [b]])
        let obs = await h.runner.run(killPrimary)
        #expect(obs.readBack?.missing == [])
        let vs = Assertions.evaluate(killPrimary, obs)
        #expect(try verdict("lost-writes", vs).result == .passed(measured: .count(0), target: .count(0)))
        #expect(try verdict("cluster-recovered", vs).result.status == .failed)
        #expect(ExitStatus.of(vs) == .targetFailed)
    }

    @Test func noMemberAnsweringIsAReadBackErrorNotAPass() async throws {
        let h = Harness(mode: .healDoesNotRecover, members: members, memberMissing: [:])
        let obs = await h.runner.run(killPrimary)
        let rb = try #require(obs.readBack)
        #expect(rb.error?.contains("no member answered") == true, "\(rb)")
        #expect(rb.error?.contains("61 attempts over 1 m 0 s") == true, "\(rb)")
        let vs = Assertions.evaluate(killPrimary, obs)
        #expect(try verdict("lost-writes", vs).result.status == .error, "the harness could not observe")
        #expect(try verdict("cluster-recovered", vs).result.status == .failed)
    }

    @Test func withoutMemberEndpointsTheReadBackGoesToThePrimary() async throws {
        let h = Harness(mode: .healDoesNotRecover, missing: [a])
        let obs = await h.runner.run(killPrimary)
        #expect(obs.readBack == ReadBack(checked: obs.load.acked.count, missing: [a], attempts: 1))
        let vs = Assertions.evaluate(killPrimary, obs)
        #expect(try verdict("lost-writes", vs).items == [a])
        #expect(ExitStatus.of(vs) == .targetFailed)
    }

    @Test func aFailedReversalIsStillAHarnessError() async throws {
        let h = Harness(mode: .revertFailsHealDoesNotRecover, members: members, memberMissing: ["host=n2": []])
        let obs = await h.runner.run(killPrimary)
        #expect(obs.recoveryFailure == nil)
        #expect(obs.harnessErrors.contains { $0.contains("heal failed") }, "\(obs.harnessErrors)")
        #expect(obs.readBack == nil, "an aborted run reads nothing back")
        let vs = Assertions.evaluate(killPrimary, obs)
        #expect(ExitStatus.of(vs) == .harnessError)
        #expect(try verdict("cluster-recovered", vs).result.status == .skipped)
    }

    @Test func aHealthyRunPassesClusterRecoveredAndReadsThePrimary() async throws {
        let h = Harness(members: members, memberMissing: ["host=n2": [a]])
        let obs = await h.runner.run(killPrimary)
        #expect(obs.recoveryFailure == nil)
        #expect(obs.readBack == ReadBack(checked: obs.load.acked.count, missing: [], attempts: 1))
        #expect(!h.journal.all.contains { $0.contains(" on host=") })
        let vs = Assertions.evaluate(killPrimary, obs)
        #expect(try verdict("cluster-recovered", vs).result == .passed(measured: .count(0), target: .count(0)))
        #expect(ExitStatus.of(vs) == .passed)
        // Its place: right after lost-writes; everything else as before.
        let ids = vs.map(\.id)
        #expect(ids.firstIndex(of: "cluster-recovered") == ids.firstIndex(of: "lost-writes").map { $0 + 1 }, "\(ids)")
    }

    @Test func noStablePrimaryWithinPatienceFallsBackToEveryMember() async throws {
        let h = Harness(verifyFailures: 1_000, members: members, memberMissing: ["host=n1": [a], "host=n2": [a], "host=n3": [a]])
        let obs = await h.runner.run(killPrimary)
        let rb = try #require(obs.readBack)
        #expect(rb.error == nil)
        #expect(rb.missing == [a])
        #expect(rb.membersBecause?.hasPrefix("no stable primary answered the read-back: ") == true, "\(rb)")
        #expect(rb.membersBecause?.contains("port 5000 failed") == true)
        let vs = Assertions.evaluate(killPrimary, obs)
        #expect(try verdict("lost-writes", vs).items == [a])
        #expect(try verdict("cluster-recovered", vs).result.status == .passed)
    }

    @Test func markdownShowsTheFailedRecoveryAndWhoAnswered() {
        var obs = Fixture.outage20s()
        obs.recoveryFailure = RecoveryFailure(step: 2, message: "PostgreSQL not running on n1 after the heal", lastSeen: "n1=down n2=primary/tl2")
        obs.readBack = ReadBack(checked: 10, missing: [], members: [MemberReadBack(member: "n1", error: "refused"), MemberReadBack(member: "n2", missing: 0)],
                                membersBecause: "the cluster did not recover after the heal")
        let r = RunReport(runId: "r", scenario: killPrimary, overrides: [], environment: "local", startedAt: "2026-11-25T13:14:00Z",
                          durationMs: 1, observations: obs, judgement: Judgement(killPrimary, obs))
        let md = Render.markdown(r)
        #expect(md.hasPrefix("# kill-primary: TARGET-FAILED (exit 1)"), "\(md.prefix(200))")
        #expect(md.contains("| Cluster recovered after the heal | ❌ failed |"))
        #expect(md.contains("- read on every member that answered (the cluster did not recover after the heal): n1 did not answer: refused, n2 0 missing"))
    }

    @Test func noHealNoClusterRecoveredVerdict() {
        #expect(Assertions.clusterRecovered(Observations()) == nil)
    }

    @Test func oldObservationsDecodeAndTheNewFieldsRoundTrip() throws {
        let old = #"{"checked":3,"missing":["w1-1"],"attempts":1}"#
        let rb = try JSONDecoder().decode(ReadBack.self, from: Data(old.utf8))
        #expect(rb == ReadBack(checked: 3, missing: ["w1-1"], attempts: 1))
        #expect(String(decoding: try JSONEncoder().encode(rb), as: UTF8.self).contains("members") == false)
        var o = Observations(readBack: ReadBack(checked: 2, missing: [], members: [MemberReadBack(member: "n1", missing: 0)],
                                                membersBecause: "x"))
        o.recoveryFailure = RecoveryFailure(step: 2, message: "no leader", lastSeen: "n1=down")
        #expect(try JSONDecoder().decode(Observations.self, from: JSONEncoder().encode(o)) == o)
        var plain = try JSONSerialization.jsonObject(with: JSONEncoder().encode(Observations())) as! [String: Any]
        plain.removeValue(forKey: "recoveryFailure")
        #expect(try JSONDecoder().decode(Observations.self, from: JSONSerialization.data(withJSONObject: plain)).recoveryFailure == nil)
    }
}
