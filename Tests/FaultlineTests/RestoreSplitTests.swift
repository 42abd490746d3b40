import Testing
@testable import Faultline

/// A load origin in ms since the Unix epoch; T is 10 s after it, the disaster 20 s after it.
private let O = 1_767_225_600_000.0
private let T = O + 10_000

private func acked(_ id: String, _ startMs: Double, _ ackMs: Double? = nil) -> AckedWrite {
    AckedWrite(id: id, startMs: startMs, ackMs: ackMs ?? startMs + 5, server: "10.77.0.11/tl1")
}

private func check(before: [String: Double]?, after: [String: Double], target: String? = "target",
                   targetEpochMs: Double? = T, origin: Double? = O, error: String? = nil) -> RestoreCheck {
    RestoreCheck(target: target, targetEpochMs: target == nil ? nil : targetEpochMs,
                 targetISO: target == nil ? nil : targetEpochMs.map { EpochTime.iso(milliseconds: $0) },
                 targetLoadMs: target == nil ? nil : 10_000, disasterLoadMs: 20_000, loadOriginEpochMs: origin,
                 commitsBefore: before, presentAfter: after, resolutionMs: 1, restoreStep: 4, error: error)
}

@Suite("RestoreSplit: a drill's writes split at T")
struct RestoreSplitTests {
    @Test func theSplitAtTByServerCommitTime() {
        let writes = [acked("a", 9_000), acked("b", 9_500), acked("c", 9_999), acked("d", 10_000), acked("e", 10_001),
                      acked("f", 10_300)]
        let before = ["a": T - 500, "b": T - 2, "c": T - 0.5, "d": T + 0.8, "e": T + 2, "f": T + 300]
        // a kept; b lost; c missing but within 1 ms of T; d present but within 1 ms; e present after T; f gone.
        let s = RestoreSplit.classify(acked: writes, indeterminate: [],
                                      check: check(before: before, after: ["a": T - 500, "d": T + 0.8, "e": T + 2]))
        #expect(s.problem == nil)
        #expect(s.expectedPresent == 2)
        #expect(s.lost == ["b"])
        #expect(s.indeterminate == ["c", "d"])
        #expect(s.presentAfterTarget == ["e"])
        #expect(s.newestSurvivingAckedCommitEpochMs == T + 0.8)
        #expect(s.rpoMs == 0, "a surviving commit within the resolution of T: nothing lost before T")
        #expect(!s.notes.contains { $0.contains("client ack times") })
    }

    @Test func theResolutionBoundaryIsIndeterminateOnBothSides() {
        let writes = [acked("at-minus-r", 9_000), acked("just-before", 9_000), acked("at-plus-r", 10_000), acked("just-after", 10_000)]
        let before = ["at-minus-r": T - 1, "just-before": T - 1.001, "at-plus-r": T + 1, "just-after": T + 1.001]
        let s = RestoreSplit.classify(acked: writes, indeterminate: [],
                                      check: check(before: before, after: ["at-plus-r": T + 1, "just-after": T + 1.001]))
        #expect(s.expectedPresent == 1)
        #expect(s.lost == ["just-before"])
        #expect(s.indeterminate == ["at-minus-r", "at-plus-r"])
        #expect(s.presentAfterTarget == ["just-after"])
    }

    @Test func unknownCommitTimesFallBackToClientTimes() {
        // No commit times before the destroy: a write missing after the restore is placed by its client times.
        let writes = [acked("kept", 5_000), acked("early", 8_000, 8_990), acked("straddles", 9_990, 10_020),
                      acked("late", 10_500)]
        let s = RestoreSplit.classify(acked: writes, indeterminate: [], check: check(before: nil, after: ["kept": T - 5_000 + 4]))
        #expect(s.lost == ["early"], "acked at +8.99 s, before T − 1 ms: it had to survive")
        #expect(s.indeterminate == ["straddles"])
        #expect(s.expectedPresent == 2)
        #expect(s.presentAfterTarget.isEmpty)
        #expect(s.notes.contains { $0.contains("client ack times were used") })
        #expect(s.rpoMs == 4_996)

        // A write missing from the commits before (read a moment before it committed): client times too.
        let partial = RestoreSplit.classify(acked: writes, indeterminate: [],
                                            check: check(before: ["kept": T - 4_996], after: ["kept": T - 4_996]))
        #expect(partial.lost == ["early"] && partial.indeterminate == ["straddles"])
        #expect(!partial.notes.contains { $0.contains("client ack times were used") })

        // Without a load clock, T's load-frame time (the mark) places them the same way.
        let noClock = RestoreSplit.classify(acked: writes, indeterminate: [], check: check(before: nil, after: [:], origin: nil))
        #expect(noClock.lost == ["early", "kept"] && noClock.indeterminate == ["straddles"])
    }

    @Test func unacknowledgedRowsPresentAfterTAreCounted() {
        let writes = [acked("a", 9_000)]
        let unanswered = [IndeterminateWrite(id: "x", startMs: 10_400, giveUpMs: 10_600, reason: "connection lost during COMMIT"),
                          IndeterminateWrite(id: "y", startMs: 9_995, giveUpMs: 10_100, reason: "timeout during COMMIT")]
        let before = ["a": T - 1_000, "x": T + 450]
        // x (indeterminate to the client) and u (unknown to it) committed after T and are back; y straddles T; the
        // rows written on the restored cluster (n acked after the disaster, m committed after it) are not the drill's.
        let after = ["a": T - 1_000, "x": T + 450, "u": T + 100, "n": O + 25_004, "m": O + 21_000]
        let s = RestoreSplit.classify(acked: writes + [acked("n", 25_000)], indeterminate: unanswered,
                                      check: check(before: before, after: after))
        #expect(s.presentAfterTarget == ["u", "x"])
        #expect(s.indeterminate == ["y"])
        #expect(s.lost.isEmpty && s.expectedPresent == 1)
        #expect(s.rpoMs == 1_000)
    }

    @Test func withoutATargetEveryAcknowledgedWriteMustBePresent() {
        let writes = [acked("a", 1_000), acked("b", 15_000), acked("c", 19_000), acked("new", 30_000)]
        let unanswered = [IndeterminateWrite(id: "x", startMs: 19_990, giveUpMs: 21_000, reason: "connection lost during COMMIT")]
        let before = ["a": O + 1_004, "b": O + 15_004, "c": O + 19_004]
        let s = RestoreSplit.classify(acked: writes, indeterminate: unanswered,
                                      check: check(before: before, after: ["a": O + 1_004, "new": O + 30_004], target: nil))
        #expect(s.expectedPresent == 3, "the write acknowledged on the restored cluster is not the drill's")
        #expect(s.lost == ["b", "c"])
        #expect(s.indeterminate == ["x"])
        #expect(s.presentAfterTarget.isEmpty)
        #expect(s.newestAckedCommitEpochMs == O + 19_004 && s.newestSurvivingAckedCommitEpochMs == O + 1_004)
        #expect(s.rpoMs == 18_000)

        let none = RestoreSplit.classify(acked: writes, indeterminate: [],
                                         check: check(before: before, after: before, target: nil))
        #expect(none.lost.isEmpty && none.rpoMs == 0)

        // A lost write with no commit time counts by its client ack time on the load's clock.
        let client = RestoreSplit.classify(acked: writes, indeterminate: [],
                                           check: check(before: nil, after: ["a": O + 1_004], target: nil))
        #expect(client.lost == ["b", "c"])
        #expect(client.newestAckedCommitEpochMs == O + 19_005)
        #expect(client.rpoMs == 18_001)
        #expect(client.notes.contains { $0.contains("client ack times were used") })
    }

    @Test func rpoIsTBackToTheNewestSurvivingAcknowledgedCommit() {
        let writes = [acked("a", 8_000), acked("b", 9_000), acked("c", 9_900)]
        let before = ["a": T - 2_000, "b": T - 1_000, "c": T - 100]
        let s = RestoreSplit.classify(acked: writes, indeterminate: [], check: check(before: before, after: ["a": T - 2_000, "b": T - 1_000]))
        #expect(s.rpoMs == 1_000 && s.lost == ["c"])
        let exact = RestoreSplit.classify(acked: [acked("a", 9_990)], indeterminate: [], check: check(before: ["a": T], after: ["a": T]))
        #expect(exact.rpoMs == 0)
        let nothing = RestoreSplit.classify(acked: writes, indeterminate: [], check: check(before: before, after: [:]))
        #expect(nothing.rpoMs == nil && nothing.newestSurvivingAckedCommitEpochMs == nil && nothing.lost.count == 3)
        // T without a server time: the load's clock at the mark stands in, and a note says so.
        let loadClock = RestoreSplit.classify(acked: writes, indeterminate: [],
                                              check: check(before: before, after: ["a": T - 2_000, "b": T - 1_000], targetEpochMs: nil))
        #expect(loadClock.targetEpochMs == T && loadClock.rpoMs == 1_000)
        #expect(loadClock.notes.contains { $0.contains("T's server time unknown") })
    }

    @Test func aTargetWithNoTimeAtAllIsAProblem() {
        var c = check(before: [:], after: [:], targetEpochMs: nil, origin: nil)
        c.targetLoadMs = nil
        #expect(RestoreSplit.classify(acked: [acked("a", 1)], indeterminate: [], check: c).problem?.contains("T has no time") == true)
    }
}

/// A drill as written in the brief: steps 0 backup, 1 mark, 2 hold, 3 destroy, 4 restore, 5 expect.
private let drill = Scenario("dr-drill") {
    Targets(rto: .minutes(1), lostWrites: 0, settle: .seconds(120), rpo: .seconds(2))
    Load(.ledgerWrites(rate: 50))
    SteadyState(for: .seconds(5))
    Backup(.full, repo: "1", within: .minutes(5))
    Mark("target")
    Hold(for: .seconds(10))
    Destroy()
    Restore(to: "target", repo: "1", within: .minutes(30))
    Expect(.clusterHealthy(members: 3, sync: 1), within: .seconds(120))
}

@Suite("DRChecks: a drill's verdicts")
struct DRChecksTests {
    /// A drill's observations: writes every second from 0 to 19 s and from 50 s (restored at 50 s), commits 4 ms
    /// after the start; the restore to T (+10 s) kept the rows before it. `mutate` adjusts them.
    func observations(restore status: OperationResult.Status = .succeeded, _ mutate: (inout Observations) -> Void = { _ in }) -> Observations {
        let writes: [AckedWrite] = (Array(0..<20) + Array(50..<55)).map { (k: Int) in acked("w\(k)", Double(k * 1_000)) }
        var o = Observations(load: LoadObservations(acked: writes),
                             readBack: ReadBack(checked: 25, missing: (10..<20).map { "w\($0)" }), loadStoppedAtMs: 60_000)
        o.operations = [
            OperationResult(step: 0, operation: .backup(.full, repo: "1"), startedAtMs: 0, endedAtMs: 5_000, status: .succeeded),
            OperationResult(step: 1, operation: .mark("target"), startedAtMs: 10_000, endedAtMs: 10_000, status: .succeeded),
            OperationResult(step: 3, operation: .destroy, startedAtMs: 20_000, endedAtMs: 21_000, status: .succeeded),
            OperationResult(step: 4, operation: .restore(to: "target", repo: "1"), startedAtMs: 21_000,
                            endedAtMs: status == .cancelled ? nil : 49_000, status: status,
                            outcome: status == .succeeded ? OperationOutcome("restored", facts: ["restore-ms": "20000", "replay-ms": "3500",
                                                                                                 "promotion-ms": "1200", "replicas-ms": "4300"]) : nil,
                            error: status == .failed ? "pgbackrest: unable to find backup set" : nil),
        ]
        o.conditions = [ConditionResult(step: 5, condition: .clusterHealthy(members: 3, sync: 1), withinMs: 120_000, startedAtMs: 49_000,
                                        metAtMs: 49_500, lastSeen: "n1=primary/tl2 n2=sync_standby/tl2 n3=async_replica/tl2")]
        if status == .succeeded {
            let all = commits(Array(0..<20))
            let present = all.filter { $0.value < T }.merging(commits(Array(50..<55))) { a, _ in a }
            o.restore = RestoreCheck(target: "target", targetEpochMs: T, targetISO: EpochTime.iso(milliseconds: T), targetLoadMs: 10_000,
                                     disasterLoadMs: 20_000, loadOriginEpochMs: O, commitsBefore: all, presentAfter: present,
                                     restoreStep: 4)
        }
        mutate(&o)
        return o
    }

    /// The rows w<k>, committed 4 ms after they started.
    func commits(_ ks: [Int]) -> [String: Double] {
        Dictionary(uniqueKeysWithValues: ks.map { (k: Int) in ("w\(k)", O + Double(k * 1_000) + 4) })
    }

    @Test func aCleanDrillPassesEveryVerdict() throws {
        let vs = DRChecks.evaluate(drill, observations())
        #expect(vs.map(\.id) == ["lost-writes", "writes-after-target-absent", "rpo", "rto"])
        #expect(vs.allSatisfy { $0.result.status == .passed }, "\(vs.map { "\($0.id)=\($0.result)" })")
        let lost = try verdict("lost-writes", vs)
        #expect(lost.title == "Acknowledged writes committed before T lost by the restore")
        #expect(lost.result == .passed(measured: .count(0), target: .count(0)))
        #expect(lost.notes.contains("10 acknowledged write(s) committed before T expected present"))
        #expect(lost.notes.contains("0 indeterminate (neither lost nor kept)"))
        #expect(lost.notes.contains { $0.hasPrefix("rule: ") })
        let rpo = try verdict("rpo", vs)
        #expect(rpo.result == .passed(measured: .ms(996), target: .ms(2_000)))
        #expect(rpo.notes.contains { $0.contains(EpochTime.iso(milliseconds: T)) && $0.contains("+10.0 s after load start") })
        #expect(rpo.notes.contains { $0.hasPrefix("newest surviving acknowledged commit: ") && $0.contains("996 ms before T") })
        let rto = try verdict("rto", vs)
        #expect(rto.title == "RTO: the disaster to the first acknowledged write on the restored cluster")
        #expect(rto.result == .passed(measured: .ms(30_005), target: .ms(60_000)))
        #expect(rto.notes.contains("restore step took 28.0 s"))
        #expect(rto.notes.contains("breakdown: restore 20.0 s, WAL replay 3.5 s, promotion 1.2 s, replicas 4.3 s"))
    }

    @Test func aLostWriteBeforeTFails() throws {
        let v = try verdict("lost-writes", DRChecks.evaluate(drill, observations { $0.restore?.presentAfter["w3"] = nil; $0.restore?.presentAfter["w7"] = nil }))
        #expect(v.result.status == .failed && v.result.measured == .count(2))
        #expect(v.items == ["w3", "w7"])
        #expect(v.result.message?.hasPrefix("2 acknowledged write(s) committed before T missing after the restore: w3 (acked at 3.0 s") == true)
    }

    @Test func aRowAfterTPresentFails() throws {
        let v = try verdict("writes-after-target-absent", DRChecks.evaluate(drill, observations { $0.restore?.presentAfter["w12"] = O + 12_004 }))
        #expect(v.result == .failed(measured: .count(1), target: .count(0),
                                    why: "1 row(s) committed after T present after the restore: the restore went past T: w12"))
        #expect(v.items == ["w12"])
    }

    @Test func anRPOOverItsTargetFails() throws {
        // The newest surviving write is w7 (committed 2996 ms before T).
        let v = try verdict("rpo", DRChecks.evaluate(drill, observations { o in for i in 8..<10 { o.restore?.presentAfter["w\(i)"] = nil } }))
        #expect(v.result.status == .failed)
        #expect(v.result.measured == .ms(2_996) && v.result.target == .ms(2_000))
    }

    @Test func anRTOOverItsTargetFailsAndTheProbeIsNamed() throws {
        let o = observations { o in
            o.load.acked.removeAll { $0.startMs >= 50_000 && $0.startMs < 53_000 }  // writes back only at +53 s: 33 s
            var p = ServiceProbeReport(intervalMs: 20, connectTimeoutMs: 500, statementTimeoutMs: 2_000)
            p.attempts = [ServiceProbeAttempt(intendedMs: 19_990, startMs: 19_990, endMs: 20_100, outcome: .ok),
                          ServiceProbeAttempt(intendedMs: 20_010, startMs: 20_010, endMs: 21_000, outcome: .connectionRefused),
                          ServiceProbeAttempt(intendedMs: 49_200, startMs: 49_200, endMs: 49_210, outcome: .ok)]
            o.load.probe = p
        }
        var s = drill
        s.targets.rto = .seconds(30)
        let v = try verdict("rto", DRChecks.evaluate(s, o))
        #expect(v.result == .failed(measured: .ms(33_005), target: .ms(30_000), why: "writes back 33.0 s after the disaster, target 30.0 s"))
        #expect(v.notes.contains("service probe: first acknowledged write after the disaster at +29.2 s, 3.8 s before the workload's"))
    }

    /// A write acknowledged while the destroy ran (the doomed cluster's last, milliseconds after the disaster) is not
    /// the restored cluster's first: the RTO counts from the first one acknowledged after the destroy finished.
    @Test func aWriteAcknowledgedWhileTheDestroyRanIsNotTheRestoredClustersFirst() throws {
        let o = observations { $0.load.acked.append(acked("w-doomed", 20_010, 20_021)) }
        let v = try verdict("rto", DRChecks.evaluate(drill, o))
        #expect(v.result == .passed(measured: .ms(30_005), target: .ms(60_000)), "\(v.result)")
        #expect(!v.notes.contains { $0.contains("w-doomed") })
    }

    @Test func noWriteAfterTheDisasterFailsTheRTOWithoutAMeasure() throws {
        let v = try verdict("rto", DRChecks.evaluate(drill, observations { $0.load.acked.removeAll { $0.startMs >= 50_000 } }))
        #expect(v.result == .failed(measured: nil, target: .ms(60_000), why: "no acknowledged write after the disaster in the 40.0 s observed"))
    }

    @Test func aFailedRestoreSkipsTheDrillsVerdictsAndFailsItsOwn() throws {
        let o = observations(restore: .failed)
        let dr = DRChecks.evaluate(drill, o)
        #expect(dr.map(\.id) == ["lost-writes", "writes-after-target-absent", "rpo", "rto"])
        for v in dr {
            #expect(v.result == .skipped(reason: "not run: step 5 (restore to mark 'target' (repo 1)) failed, the remaining steps were skipped"))
        }
        let all = Assertions.evaluate(drill, o)
        #expect(try verdict("operation-restore", all).result.status == .failed)
        #expect(ExitStatus.of(all) == .targetFailed)
    }

    @Test func aDrillStoppedBeforeTheDestroyJudgesTheStandardReadBack() throws {
        let o = observations(restore: .failed) { o in
            o.operations = [OperationResult(step: 0, operation: .backup(.full, repo: "1"), startedAtMs: 0, endedAtMs: 5_000,
                                            status: .failed, error: "repo1 unreachable")]
            o.readBack = ReadBack(checked: 25, missing: [])
        }
        let dr = DRChecks.evaluate(drill, o)
        let lost = try verdict("lost-writes", dr)
        #expect(lost.title == "Lost acknowledged writes")
        #expect(lost.result == .passed(measured: .count(0), target: .count(0)))
        #expect(lost.notes.last?.contains("stopped before the destroy") == true)
        #expect(try verdict("rto", dr).result.message?.hasPrefix("not run: step 1 (full backup (repo 1)) failed") == true)
        // The same with a write missing: the standard verdict fails, the cluster was never destroyed.
        var missing = o
        missing.readBack = ReadBack(checked: 25, missing: ["w2"])
        #expect(try verdict("lost-writes", DRChecks.evaluate(drill, missing)).result.status == .failed)
    }

    /// The archive-gap control: the destroy's pre-check refused, nothing was destroyed, so the standard read-back judges.
    @Test func aDestroyThatRefusedJudgesTheStandardReadBack() throws {
        let o = observations(restore: .failed) { o in
            o.operations = [OperationResult(step: 0, operation: .backup(.full, repo: "1"), startedAtMs: 0, endedAtMs: 5_000, status: .succeeded),
                            OperationResult(step: 3, operation: .destroy, startedAtMs: 20_000, endedAtMs: 21_000,
                                            status: .failed, error: "pre-check failed, nothing destroyed")]
            o.readBack = ReadBack(checked: 25, missing: ["w2"])
        }
        let lost = try verdict("lost-writes", DRChecks.evaluate(drill, o))
        #expect(lost.title == "Lost acknowledged writes")
        #expect(lost.result.status == .failed, "a write missing from a cluster never destroyed is lost")
    }

    @Test func aFailedReadIsAHarnessErrorAndTheRTOIsStillMeasured() throws {
        let o = observations { $0.restore?.error = "commit times after the restore not read: connection refused" }
        let vs = DRChecks.evaluate(drill, o)
        for id in ["lost-writes", "writes-after-target-absent", "rpo"] {
            #expect(try verdict(id, vs).result == .error("the drill's read-back failed: commit times after the restore not read: connection refused"))
        }
        #expect(try verdict("rto", vs).result.status == .passed, "the RTO rests on the client's ledger, not on the commit read")
        #expect(ExitStatus.of(Assertions.evaluate(drill, o)) == .harnessError)

        let none = DRChecks.evaluate(drill, observations { $0.restore = nil })
        #expect(try verdict("lost-writes", none).result.status == .error)
        // Cancelled after the restore: nothing was read back, and the verdicts say the run stopped.
        let cancelled = observations { $0.restore?.error = "commit times after the restore not read (no read-back ran)"; $0.cancelled = true }
        #expect(try verdict("lost-writes", DRChecks.evaluate(drill, cancelled)).result == .skipped(reason: "not measured: the run was cancelled"))
    }

    @Test func unsupportedCancelledAndNoWritesAreSkipped() throws {
        let unsupported = observations(restore: .unsupported) { $0.operations?[3].error = "no pgbackrest"; $0.unsupported = ["restore: no pgbackrest"] }
        #expect(Assertions.evaluate(drill, unsupported).allSatisfy { $0.result.status == .skipped })
        let cancelled = observations(restore: .cancelled) { $0.cancelled = true }
        let vs = DRChecks.evaluate(drill, cancelled)
        #expect(vs.allSatisfy { $0.result == .skipped(reason: "not measured: the run was cancelled") })
        var quiet = drill
        quiet.workloads = [.replicaReads(rate: 10)]
        #expect(DRChecks.evaluate(quiet, observations()).allSatisfy { $0.result == .skipped(reason: "no write workload") })
        // A restore step that never ran, with nothing to explain it, is an error, never a pass.
        let never = observations { $0.operations?.removeLast(); $0.restore = nil }
        #expect(DRChecks.evaluate(drill, never).allSatisfy { $0.result.status == .error })
    }

    @Test func aSuddenLossNeedsEveryAcknowledgedWrite() throws {
        let s = Scenario("dr-sudden") {
            Targets(rto: .minutes(1), rpo: .seconds(5))
            Load(.ledgerWrites(rate: 50)); SteadyState(for: .seconds(5))
            Backup(.full); Hold(for: .seconds(10)); Destroy(); Restore()
        }
        func obs(keepingUpTo last: Int) -> Observations {
            observations { o in
                o.operations = o.operations?.filter { $0.operation != .mark("target") }.map { r in
                    var r = r
                    r.step = r.operation == .destroy ? 2 : r.operation.slug == "restore" ? 3 : r.step
                    if r.operation.slug == "restore" { r.operation = .restore(to: nil, repo: nil) }
                    return r
                }
                o.restore?.target = nil; o.restore?.targetEpochMs = nil; o.restore?.targetISO = nil; o.restore?.targetLoadMs = nil
                o.restore?.presentAfter = commits(Array(0...last) + Array(50..<55))
            }
        }
        let clean = DRChecks.evaluate(s, obs(keepingUpTo: 19))
        #expect(clean.map(\.id) == ["lost-writes", "rpo", "rto"], "no target: no writes-after-T verdict")
        #expect(try verdict("lost-writes", clean).title == "Acknowledged writes lost by the restore")
        #expect(try verdict("lost-writes", clean).result == .passed(measured: .count(0), target: .count(0)))
        #expect(try verdict("rpo", clean).result == .passed(measured: .ms(0), target: .ms(5_000)))
        let lossy = DRChecks.evaluate(s, obs(keepingUpTo: 12))
        #expect(try verdict("lost-writes", lossy).items == (13..<20).map { "w\($0)" }.sorted())
        #expect(try verdict("rpo", lossy).result.measured == .ms(7_000))
        #expect(try verdict("rpo", lossy).result.status == .failed)
    }

    @Test func theDrillsVerdictsReplaceTheStandardOnes() throws {
        let vs = Assertions.evaluate(drill, observations())
        #expect(vs.filter { $0.id == "rto" }.count == 1 && vs.filter { $0.id == "lost-writes" }.count == 1)
        #expect(try verdict("rto", vs).title.hasPrefix("RTO: the disaster"))
        let ids = vs.map(\.id)
        #expect(ids.firstIndex(of: "lost-writes")! + 1 == ids.firstIndex(of: "writes-after-target-absent"))
        #expect(ExitStatus.of(vs) == .passed, "\(vs.filter { $0.result.status != .passed && $0.result.status != .skipped }.map(\.id))")
        // A scenario without a restore step keeps the standard verdicts.
        #expect(DRChecks.evaluate(killPrimary, Fixture.outage20s()).isEmpty)
    }
}

@Suite("DRChecks: a drill through the runner on the test clock")
struct DrillRunnerTests {
    /// `backupRestoreDrill` with an RPO target: backup 5 → 125 s, mark at 125 s, destroy 128 → 138 s, restore
    /// 138 → 1338 s (see `drillTimings`, `DrillFixture`).
    var scenario: Scenario {
        var s = backupRestoreDrill
        s.targets.rpo = .seconds(2)
        return s
    }

    func harness(_ operations: [String: FakeOperation] = drillTimings, load: LoadObservations = DrillFixture.load(),
                 commits: [[String: Double]?]? = [DrillFixture.before, DrillFixture.after]) -> RunnerTests.Harness {
        RunnerTests.Harness(operations: operations, loadObservations: load, commits: commits)
    }

    @Test func aDrillWithoutInjectGetsTheDrillsVerdictsAndNoSpuriousOnes() async throws {
        let h = harness()
        let obs = await h.runner.run(scenario)
        #expect(obs.harnessErrors.isEmpty && !obs.cancelled)
        // The runner: the mark's server time offered by the environment, the commits read at the destroy and after the restore.
        let j = h.journal.all
        #expect(j.contains("perform mark 'target'"))
        let first = try #require(h.journal.index("commit times 1")), destroy = try #require(h.journal.index("perform destroy"))
        let second = try #require(h.journal.index("commit times 2")), restore = try #require(h.journal.index("perform restore"))
        #expect(first < destroy && restore < second, "\(j)")
        let c = try #require(obs.restore)
        #expect(c.target == "target" && c.targetEpochMs == DrillFixture.origin + 125_000.2)
        #expect(c.targetISO == EpochTime.iso(milliseconds: DrillFixture.origin + 125_000.2))
        #expect(c.targetLoadMs == 125_000 && c.disasterLoadMs == 128_000 && c.restoreStep == 4)
        #expect(c.loadOriginEpochMs == DrillFixture.origin)
        #expect(c.commitsBefore == DrillFixture.before && c.presentAfter == DrillFixture.after)
        #expect(c.error == nil)

        let vs = Assertions.evaluate(scenario, obs)
        let statuses = Dictionary(uniqueKeysWithValues: vs.map { ($0.id, $0.result.status) })
        #expect(statuses == ["steady-state": .passed, "rto": .passed, "lost-writes": .passed, "writes-after-target-absent": .passed, "rpo": .passed,
                             "expect-cluster-healthy": .passed, "error-budget-after": .skipped,
                             "operation-backup": .passed, "operation-restore": .passed], "\(vs.map { "\($0.id)=\($0.result)" })")
        #expect(try verdict("lost-writes", vs).notes.contains("125 acknowledged write(s) committed before T expected present"))
        #expect(try verdict("rpo", vs).result == .passed(measured: .ms(996), target: .ms(2_000)))
        #expect(try verdict("rto", vs).result == .passed(measured: .ms(1_210_005), target: .ms(1_800_000)))
        #expect(try verdict("rto", vs).notes.contains("restore step took 20 m 0 s"))
        #expect(Judgement(scenario, obs).exitStatus == .passed)
    }

    @Test func aRestorePastTAndALostWriteFailTheirVerdicts() async throws {
        var after = DrillFixture.after
        after["w1-126"] = DrillFixture.commit(126_000)  // committed after T, back after the restore
        after["w1-30"] = nil                            // committed before T, gone
        let obs = await harness(commits: [DrillFixture.before, after]).runner.run(scenario)
        let vs = Assertions.evaluate(scenario, obs)
        #expect(try verdict("lost-writes", vs).items == ["w1-30"])
        #expect(try verdict("writes-after-target-absent", vs).items == ["w1-126"])
        #expect(ExitStatus.of(vs) == .targetFailed)
    }

    @Test func aFailedReadBeforeTheDestroyIsAnError() async throws {
        let obs = await harness(commits: [nil, DrillFixture.after]).runner.run(scenario)
        let c = try #require(obs.restore)
        #expect(c.commitsBefore == nil && c.error?.hasPrefix("commit times before the destroy not read: commit times: connection refused") == true)
        let vs = Assertions.evaluate(scenario, obs)
        #expect(try verdict("lost-writes", vs).result.status == .error)
        #expect(try verdict("rto", vs).result.status == .passed)
        #expect(ExitStatus.of(vs) == .harnessError)
    }

    @Test func aFailedRestoreSkipsTheDrillsVerdicts() async throws {
        var ops = drillTimings
        ops["restore"] = .fails(after: .minutes(1), "pgbackrest: no backup set")
        let h = harness(ops)
        let obs = await h.runner.run(scenario)
        #expect(obs.restore == nil, "no restore succeeded: nothing read after it")
        #expect(!h.journal.all.contains("commit times 2"))
        let vs = Assertions.evaluate(scenario, obs)
        for id in ["lost-writes", "writes-after-target-absent", "rpo", "rto"] {
            #expect(try verdict(id, vs).result.message?.hasPrefix("not run: step 5 (restore to mark 'target') failed") == true)
        }
        #expect(try verdict("operation-restore", vs).result.status == .failed)
        #expect(ExitStatus.of(vs) == .targetFailed)
    }

    @Test func aSuddenLossThroughTheRunner() async throws {
        let s = Scenario("dr-sudden") {
            Targets(rto: .minutes(30), rpo: .seconds(1))
            Load(.ledgerWrites(rate: 50)); SteadyState(for: .seconds(5))
            Backup(.full, within: .minutes(10)); Hold(for: .seconds(3)); Destroy(); Restore()
            Expect(.clusterHealthy(members: 3, sync: 1))
        }
        // Every row before the destroy (w1-0 … w1-127) is back, and the new ones.
        let after = DrillFixture.before.merging(DrillFixture.after) { a, _ in a }
        let obs = await harness(commits: [DrillFixture.before, after]).runner.run(s)
        let c = try #require(obs.restore)
        #expect(c.target == nil && c.targetEpochMs == nil)
        let vs = Assertions.evaluate(s, obs)
        #expect(!vs.contains { $0.id == "writes-after-target-absent" })
        #expect(try verdict("lost-writes", vs).result == .passed(measured: .count(0), target: .count(0)))
        #expect(try verdict("rpo", vs).result == .passed(measured: .ms(0), target: .ms(1_000)))
        #expect(ExitStatus.of(vs) == .passed, "\(vs.filter { $0.result.status != .passed && $0.result.status != .skipped }.map(\.id))")
    }
}
