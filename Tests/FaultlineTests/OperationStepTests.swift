import Foundation
import Testing
import Logging
@testable import Faultline

/// A drill without any fault: back up, mark the target, destroy, restore to the mark, expect a healthy cluster.
let backupRestoreDrill = Scenario("backup-restore-drill", summary: "operations only") {
    Targets(rto: .minutes(30))
    Load(.ledgerWrites(rate: 200))
    SteadyState(for: .seconds(5))
    Backup(.full, within: .minutes(10))
    Mark("target")
    Hold(for: .seconds(3))
    Destroy()
    Restore(to: "target", within: .minutes(30))
    Expect(.clusterHealthy(members: 3, sync: 1))
}

/// The drill's operations on the fake cluster: backup 2 min, destroy 10 s, restore 20 min; the mark (at +125 s)
/// reports its server time, 0.2 ms after the load's clock.
let drillTimings: [String: FakeOperation] = [
    "backup": .takes(.minutes(2), OperationOutcome("backup 20240101-120000F", facts: ["label": "20240101-120000F"])),
    "mark": .takes(.zero, OperationOutcome(facts: ["server-time-epoch-ms": "\(DrillFixture.origin + 125_000.2)",
                                                   "server-time": EpochTime.iso(milliseconds: DrillFixture.origin + 125_000.2)])),
    "destroy": .takes(.seconds(10)),
    "restore": .takes(.minutes(20)),
]

/// What the drill's load saw on the fake cluster's timeline: one acknowledged write a second from 0 to 127 s (w1-0 …
/// w1-127, committed 4 ms after it started), none while the cluster was gone, three after the restore (w1-r0 … from
/// +1338 s); and what `ledgerCommits()` answers: every row before the destroy, the rows before T (w1-0 … w1-124) and
/// the new ones after the restore.
enum DrillFixture {
    static let originISO = "2026-01-01T00:00:00.000Z"
    static let origin = EpochTime.milliseconds(iso: originISO)!

    static func load(extra: [AckedWrite] = []) -> LoadObservations {
        func write(_ id: String, _ startMs: Int, _ server: String) -> AckedWrite {
            AckedWrite(id: id, startMs: Double(startMs), ackMs: Double(startMs + 5), server: server)
        }
        let before: [AckedWrite] = (0..<128).map { (k: Int) in write("w1-\(k)", k * 1_000, "10.77.0.11/tl1") }
        let restored: [AckedWrite] = (0..<3).map { (k: Int) in write("w1-r\(k)", 1_338_000 + k * 1_000, "10.77.0.11/tl2") }
        var l = LoadObservations(acked: before + restored + extra)
        l.originWallClock = originISO
        return l
    }

    static func commit(_ startMs: Int) -> Double { origin + Double(startMs) + 4 }

    static var before: [String: Double] {
        Dictionary(uniqueKeysWithValues: (0..<128).map { (k: Int) in ("w1-\(k)", commit(k * 1_000)) })
    }

    static var after: [String: Double] {
        let kept: [(String, Double)] = (0..<125).map { (k: Int) in ("w1-\(k)", commit(k * 1_000)) }
        let restored: [(String, Double)] = (0..<3).map { (k: Int) in ("w1-r\(k)", commit(1_338_000 + k * 1_000)) }
        return Dictionary(uniqueKeysWithValues: kept + restored)
    }
}

@Suite("Operation steps: state machine")
struct OperationStateMachineTests {
    @Test func operationsAloneRunInOrderWithoutAHeal() {
        var m = RunStateMachine(scenario: backupRestoreDrill)
        var actions = [m.start()]
        var phases = [m.phase]
        while actions.last != .finish { actions.append(m.handle(.completed)); phases.append(m.phase) }
        #expect(actions == [
            .preflight(ClusterShape(members: 3, sync: 1)),
            .startLoad([.ledgerWrites(rate: 200)]),
            .holdSteadyState(.seconds(5)),
            .operate(step: 0, .backup(.full, repo: nil)),
            .operate(step: 1, .mark("target")),
            .holdSteadyState(.seconds(3)),
            .operate(step: 3, .destroy),
            .operate(step: 4, .restore(to: "target", repo: nil)),
            .await(step: 5, .clusterHealthy(members: 3, sync: 1), within: .seconds(60)),
            .stopLoad, .verifyWrites, .finish,
        ])
        #expect(phases.contains(.operate))
        #expect(m.abort == nil && !m.healOwed && !m.loadRunning)
    }

    @Test func aFailedOperationSkipsTheRestHealsAndStillReadsBack() {
        let (a, m) = drive(backupRestoreDrill) { if case .operate(0, _) = $0 { .stepFailed("backup failed: repo gone") } else { .completed } }
        #expect(Array(a.suffix(5)) == [.operate(step: 0, .backup(.full, repo: nil)), .heal(step: nil), .stopLoad, .verifyWrites, .finish])
        #expect(m.abort == nil, "an operation's failure is a verdict, not a harness error")
        #expect(m.stepFailure == "backup failed: repo gone")
    }

    @Test func aFailedOperationAfterAHealedFaultObservesNothing() {
        let s = Scenario("op-after-heal") {
            Load(.ledgerWrites(rate: 5)); SteadyState(for: .zero)
            Inject(.killNode(.primary)); Heal(); Backup(); Expect(.clusterHealthy(members: 3, sync: 1))
        }
        let (a, _) = drive(s) { if case .operate = $0 { .stepFailed("x") } else { .completed } }
        #expect(Array(a.suffix(5)) == [.operate(step: 2, .backup(.full, repo: nil)), .heal(step: nil), .stopLoad, .verifyWrites, .finish])
    }

    @Test func anUnsupportedOperationOwesNoHeal() {
        let (a, m) = drive(backupRestoreDrill) { if case .operate = $0 { .unsupported("no pgbackrest") } else { .completed } }
        #expect(Array(a.suffix(3)) == [.operate(step: 0, .backup(.full, repo: nil)), .stopLoad, .finish])
        #expect(m.abort == .unsupported("no pgbackrest"))
    }

    @Test func cancelDuringAnOperationHeals() {
        let (a, m) = drive(backupRestoreDrill) { if case .operate(3, _) = $0 { .cancelled } else { .completed } }
        #expect(Array(a.suffix(4)) == [.operate(step: 3, .destroy), .heal(step: nil), .stopLoad, .finish])
        #expect(m.abort == .cancelled)
    }
}

@Suite("Operation steps: runner on the test clock")
struct OperationRunnerTests {
    /// The runner tests' harness, with the drill's operations on the fake cluster.
    func Harness(_ operations: [String: FakeOperation] = drillTimings) -> RunnerTests.Harness {
        RunnerTests.Harness(operations: operations, loadObservations: DrillFixture.load(),
                            commits: [DrillFixture.before, DrillFixture.after])
    }

    @Test func aDrillWithoutInjectRunsAndIsJournaledAtItsVirtualTimes() async throws {
        let h = Harness()
        let obs = await h.runner.run(backupRestoreDrill)
        #expect(obs.harnessErrors.isEmpty && !obs.cancelled)
        // Steady state 5 s; backup 5 s → 125 s; mark; hold 3 s; destroy 128 → 138 s; restore 138 s → 1338 s.
        func at(_ kind: TimelineEvent.Kind) -> [Int] { obs.events.filter { $0.kind == kind }.map(\.atMs) }
        #expect(at(.operationStarted) == [5_000, 128_000, 138_000])
        #expect(at(.operationFinished) == [125_000, 138_000, 1_338_000])
        #expect(at(.mark) == [125_000])
        #expect(obs.events.first { $0.kind == .operationStarted }?.detail == "full backup")
        #expect(obs.events.first { $0.kind == .operationFinished }?.detail == "full backup: backup 20240101-120000F")
        #expect(obs.mark("target") == 125_000)
        #expect(obs.mark("other") == nil)
        let ops = try #require(obs.operations)
        #expect(ops.map(\.step) == [0, 1, 3, 4])
        #expect(ops.allSatisfy { $0.status == .succeeded })
        #expect(ops[0].outcome?.facts == ["label": "20240101-120000F"])
        #expect(ops[3] == OperationResult(step: 4, operation: .restore(to: "target", repo: nil), startedAtMs: 138_000,
                                          endedAtMs: 1_338_000, status: .succeeded, outcome: OperationOutcome()))
        #expect(obs.conditions.first?.metAtMs == 1_338_000)

        // Operations owe no heal: nothing recorded, reverted or healed; the load still stops and writes are read back.
        let j = h.journal.all
        #expect(j.contains("perform full backup") && j.contains("perform destroy the cluster"))
        #expect(j.contains("perform mark 'target'"), "a mark is offered to the environment (the server time of T)")
        #expect(!j.contains { $0.hasPrefix("heal") || $0.hasPrefix("revert") || $0.hasPrefix("ledger") }, "\(j)")
        #expect(j.contains("load off") && j.contains { $0.hasPrefix("verify") })
        #expect(h.progress.all.contains { $0.phase == .operate })

        let vs = Assertions.evaluate(backupRestoreDrill, obs)
        let backup = try verdict("operation-backup", vs)
        #expect(backup.title == "Operation: full backup took ≤ 10m")
        #expect(backup.result == .passed(measured: .ms(120_000), target: .ms(600_000)))
        #expect(backup.notes.contains("label: 20240101-120000F"))
        #expect(try verdict("operation-restore", vs).result == .passed(measured: .ms(1_200_000), target: .ms(1_800_000)))
        #expect(!vs.contains { $0.id == "operation-destroy" }, "no bound, succeeded: nothing to judge")
        // A drill's RTO: the disaster (+128 s) to the first write acknowledged on the restored cluster (+1338.005 s).
        #expect(try verdict("rto", vs).result == .passed(measured: .ms(1_210_005), target: .ms(1_800_000)))
        #expect(ExitStatus.of(vs) == .passed, "\(vs.filter { $0.result.status != .passed && $0.result.status != .skipped })")
    }

    @Test func aTooSlowRestoreFailsWithTheMeasuredTime() async throws {
        var slow = drillTimings
        slow["restore"] = .takes(.minutes(40))
        let obs = await Harness(slow).runner.run(backupRestoreDrill)
        let vs = Assertions.evaluate(backupRestoreDrill, obs)
        let v = try verdict("operation-restore", vs)
        #expect(v.title == "Operation: restore to mark 'target' took ≤ 30m")
        #expect(v.result.status == .failed)
        #expect(v.result.measured == .ms(2_400_000) && v.result.target == .ms(1_800_000))
        #expect(v.result.message?.contains("took 40 m 0 s") == true)
        #expect(ExitStatus.of(vs) == .targetFailed)
    }

    @Test func anUnsupportedOperationSkipsEveryVerdict() async throws {
        var none = drillTimings
        none["restore"] = nil
        let h = Harness(none)
        let obs = await h.runner.run(backupRestoreDrill)
        #expect(obs.unsupported == ["restore to mark 'target': the fake cluster has no restore"])
        #expect(obs.events.contains { $0.kind == .operationUnsupported })
        #expect(obs.operations?.last?.status == .unsupported)
        #expect(obs.conditions.isEmpty, "the steps after it did not run")
        #expect(!h.journal.all.contains("heal"), "nothing was done: no heal owed")
        #expect(h.journal.all.contains("load off"))
        let vs = Assertions.evaluate(backupRestoreDrill, obs)
        #expect(vs.allSatisfy { $0.result.status == .skipped }, "\(vs.map { "\($0.id)=\($0.result.status)" })")
        #expect(try verdict("operation-restore", vs).result.message?.contains("the fake cluster has no restore") == true)
        #expect(ExitStatus.of(vs) != .targetFailed)
    }

    @Test func aThrowingOperationFailsItsVerdictAndTheRunStillHealsAndStopsTheLoad() async throws {
        var broken = drillTimings
        broken["backup"] = .fails(after: .seconds(30), "pgbackrest: repo1 unreachable")
        let h = Harness(broken)
        let obs = await h.runner.run(backupRestoreDrill)
        #expect(obs.harnessErrors.isEmpty, "a failed operation is the system's failure, not the harness's")
        let failed = try #require(obs.events.first { $0.kind == .operationFailed })
        #expect(failed.atMs == 35_000)
        #expect(failed.detail == "full backup: pgbackrest: repo1 unreachable")
        #expect(obs.operations?.map(\.step) == [0], "the remaining steps are skipped")
        let j = h.journal.all
        #expect(!j.contains("perform destroy the cluster"))
        let heal = try #require(h.journal.index("heal"))
        let off = try #require(h.journal.index("load off"))
        #expect(heal < off && off < h.journal.index("verify")!, "\(j)")
        #expect(obs.events.contains { $0.kind == .healStarted && $0.detail == "cleanup" })

        let vs = Assertions.evaluate(backupRestoreDrill, obs)
        let backup = try verdict("operation-backup", vs)
        #expect(backup.result.status == .failed)
        #expect(backup.result.message == "failed after 30.0 s: pgbackrest: repo1 unreachable")
        #expect(try verdict("operation-restore", vs).result.message?.hasPrefix("not run: step 1 (full backup) failed") == true)
        #expect(try verdict("expect-cluster-healthy", vs).result.status == .skipped)
        #expect(try verdict("lost-writes", vs).result.status == .passed)
        #expect(ExitStatus.of(vs) == .targetFailed)
    }

    @Test func aThrowingOperationWithoutABoundStillFailsAVerdict() async throws {
        let s = Scenario("destroy-fails") { Load(.ledgerWrites(rate: 5)); SteadyState(for: .zero); Destroy() }
        let obs = await Harness(["destroy": .fails(after: .seconds(1), "rm: permission denied")]).runner.run(s)
        let v = try verdict("operation-destroy", Assertions.evaluate(s, obs))
        #expect(v.title == "Operation: destroy the cluster")
        #expect(v.result == .failed(measured: .count(1), target: .count(0), why: "failed after 1.0 s: rm: permission denied"))
    }

    @Test func aFailedOperationAfterAFaultRevertsTheFault() async throws {
        let s = Scenario("fault-then-backup") {
            Load(.ledgerWrites(rate: 5)); SteadyState(for: .seconds(1))
            Inject(.killNode(.primary)); Await(.newPrimary, within: .seconds(30))
            Backup(within: .minutes(5)); Heal(); Expect(.clusterHealthy(members: 3, sync: 1))
        }
        let h = Harness(["backup": .fails(after: .seconds(2), "no primary to back up from")])
        let obs = await h.runner.run(s)
        #expect(h.journal.all.contains("revert start patroni on n1"))
        #expect(h.journal.all.filter { $0 == "heal" }.count == 1, "the cleanup heal only: the Heal() step was skipped")
        #expect(try await h.ledger.entries().isEmpty)
        #expect(!obs.events.contains { $0.kind == .phase && $0.detail == "observe" })
        #expect(Assertions.evaluate(s, obs).first { $0.id == "operation-backup" }?.result.status == .failed)
    }

    @Test func cancellationDuringAnOperationHealsAndStopsTheLoad() async throws {
        var hanging = drillTimings
        hanging["restore"] = .hangs
        let h = Harness(hanging)
        let obs = await RunnerTests.stopWhileHanging(h, backupRestoreDrill)  // Ctrl-C inside the restore
        let o = try #require(obs)
        #expect(o.cancelled)
        #expect(o.operations?.last?.status == .cancelled && o.operations?.last?.endedAtMs == nil)
        #expect(h.journal.all.contains("heal"), "an interrupted operation may leave the cluster half-changed")
        #expect(h.journal.all.contains("load off"))
        let vs = Assertions.evaluate(backupRestoreDrill, o)
        #expect(try verdict("operation-restore", vs).result.status == .skipped)
        #expect(ExitStatus.of(vs) == .harnessError)
    }

    @Test func theDefaultEnvironmentSupportsNoOperation() async throws {
        struct Bare: Environment {
            func topology() async throws -> Topology { Topology(members: []) }
            func apply(_ action: FaultAction) async throws {}
            func revert(_ reversal: Reversal) async throws {}
            func heal() async throws {}
        }
        await #expect(throws: OperationUnsupported.self) { try await Bare().perform(.backup(.full, repo: nil)) }
    }
}

@Suite("Operation steps: DSL, validation, JSON")
struct OperationModelTests {
    @Test func dslBuildsOperationSteps() {
        let s = Scenario("ops") {
            Load(.ledgerWrites(rate: 10))
            Mark("before")
            Backup(.incr, repo: "repo2", within: .minutes(5))
            Migrate(to: "0042", within: .seconds(90))
            SwitchWorkload(to: "v2", share: 0.25)
            Destroy()
            Restore(to: "before", within: .minutes(30))
            Restore()
            Operate(.migrate(revision: "0041"))
        }
        #expect(s.steps == [
            .operation(.mark("before"), within: nil),
            .operation(.backup(.incr, repo: "repo2"), within: .seconds(300)),
            .operation(.migrate(revision: "0042"), within: .seconds(90)),
            .operation(.switchWorkload(version: "v2", share: 0.25), within: nil),
            .operation(.destroy, within: nil),
            .operation(.restore(to: "before", repo: nil), within: .seconds(1_800)),
            .operation(.restore(to: nil, repo: nil), within: nil),
            .operation(.migrate(revision: "0041"), within: nil),
        ])
        #expect(s.problems().isEmpty, "\(s.problems())")
        #expect(s.effectiveWithin(s.steps[2]) == .seconds(90))
        #expect(s.steps.map { if case .operation(let o, _) = $0 { o.description } else { "" } } == [
            "mark 'before'", "incr backup (repo repo2)", "migrate to revision 0042", "switch the workload to version v2 for 25 % of the clients",
            "destroy the cluster", "restore to mark 'before'", "restore to the end of the archive", "migrate to revision 0041",
        ])
    }

    @Test func aScenarioWithoutInjectIsValid() {
        #expect(backupRestoreDrill.problems().isEmpty, "\(backupRestoreDrill.problems())")
        let healAfterOps = Scenario("h") { Load(.ledgerWrites(rate: 1)); Backup(); Heal() }
        #expect(healAfterOps.problems().isEmpty, "a Heal() with nothing injected is harmless")
        // Neither a fault nor an operation: nothing is tested.
        let nothing = Scenario("n") { Load(.ledgerWrites(rate: 1)); Await(.newPrimary, within: .seconds(1)) }
        #expect(nothing.problems().contains("no Inject(...)"))
        #expect(nothing.problems().contains { $0.contains("comes before any Inject or operation") })
    }

    @Test func marksMustBeUniqueAndRestoresNeedAnEarlierMark() {
        func problems(@ScenarioBuilder _ body: () -> [ScenarioElement]) -> [String] {
            var s = Scenario("m", body)
            s.workloads = [.ledgerWrites(rate: 1)]
            return s.problems()
        }
        #expect(problems { Mark("t"); Backup(); Mark("t") } == ["Mark(\"t\") appears twice"])
        #expect(problems { Mark("t"); Restore(to: "nope") } == ["restore to 'nope': no Mark(\"nope\") before it"])
        #expect(problems { Restore(to: "t"); Mark("t") } == ["restore to 't': no Mark(\"t\") before it"])
        #expect(problems { Mark("t"); Restore(to: "t") }.isEmpty)
        #expect(problems { Mark("") } == ["mark name '' must be non-empty, without spaces"])
        #expect(problems { Operate(.mark("t"), within: .seconds(1)) } == ["a Mark takes no time: it cannot have a within bound"])
        #expect(problems { Backup(within: .zero) } == ["a timeout must be positive"])
        #expect(problems { SwitchWorkload(to: "v2", share: 1.5) } == ["a workload switch's share must be in (0, 1]"])
        #expect(problems { Migrate(to: "") } == ["a migration needs a revision"])
    }

    @Test func stepsRoundTripThroughJSONInTheFlatForm() throws {
        let enc = JSONEncoder()
        enc.outputFormatting = .sortedKeys
        func json(_ s: Step) throws -> String { String(decoding: try enc.encode(s), as: UTF8.self) }
        #expect(try json(.operation(.restore(to: "target", repo: nil), within: .seconds(1_800)))
                == #"{"kind":"operate","operation":{"kind":"restore","to":"target"},"withinMs":1800000}"#)
        #expect(try json(.operation(.mark("target"), within: nil)) == #"{"kind":"operate","operation":{"kind":"mark","name":"target"}}"#)
        #expect(try json(.operation(.switchWorkload(version: "v2", share: 0.5), within: nil))
                == #"{"kind":"operate","operation":{"kind":"switch-workload","share":0.5,"version":"v2"}}"#)
        // The existing forms are unchanged.
        #expect(try json(.heal) == #"{"kind":"heal"}"#)
        #expect(try json(.hold(.seconds(2))) == #"{"kind":"hold","withinMs":2000}"#)

        let all: [OperationSpec] = [.mark("a"), .backup(.diff, repo: "r"), .backup(.full, repo: nil), .destroy,
                                    .restore(to: "a", repo: "r"), .restore(to: nil, repo: nil), .migrate(revision: "7"),
                                    .switchWorkload(version: "v3", share: nil)]
        var s = backupRestoreDrill
        s.steps += all.map { .operation($0, within: .seconds(4)) }
        let back = try JSONDecoder().decode(Scenario.self, from: try enc.encode(s))
        #expect(back == s)
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(Step.self, from: Data(#"{"kind":"operate","operation":{"kind":"migrate"}}"#.utf8))
        }
    }

    @Test func observationsCarryOperationsAndOldOnesDecodeWithout() throws {
        var o = Observations(events: [TimelineEvent(atMs: 5, kind: .mark, detail: "t")])
        o.operations = [OperationResult(step: 0, operation: .mark("t"), startedAtMs: 5, endedAtMs: 5, status: .succeeded),
                        OperationResult(step: 1, operation: .destroy, startedAtMs: 5, endedAtMs: nil, status: .cancelled)]
        let data = try JSONEncoder().encode(o)
        #expect(try JSONDecoder().decode(Observations.self, from: data) == o)
        let plain = try JSONEncoder().encode(Observations())
        #expect(!String(decoding: plain, as: UTF8.self).contains("operations"), "absent when there were none")
        #expect(try JSONDecoder().decode(Observations.self, from: plain).operations == nil)
        #expect(o.mark("t") == 5)
    }

    @Test func dryRunPlanNamesTheOperations() {
        let lines = backupRestoreDrill.planLines()
        #expect(lines.contains { $0.hasSuffix("operate: full backup within 10m (no reversal; if it fails, the remaining steps are skipped and the run heals)") })
        #expect(lines.contains { $0.hasSuffix("mark: name this instant 'target'") })
        #expect(lines.contains { $0.hasSuffix("operate: restore to mark 'target' within 30m (no reversal; if it fails, the remaining steps are skipped and the run heals)") })
        #expect(lines.contains { $0.hasSuffix("heal: only if an operation fails or is interrupted (nothing injected)") })
    }
}
