import Testing
import Synchronization
@testable import Faultline

/// Steady: 400 ok/s, p99 2 ms, no errors (the totals grow with the virtual time).
@Sendable func steadyProgress(_ ms: Int) -> LoadProgress {
    LoadProgress(okPerSecond: 400, totalOk: max(1, ms * 400 / 1_000), p99Us: 2_000, recentP99Us: 2_000)
}

@Suite("Runner: safety limits, end to end on the fakes")
struct SafetyRunnerTests {
    typealias Harness = RunnerTests.Harness

    /// Kill the primary, hold it down 10 s (the abort conditions are watched), heal, wait for health.
    let holdScenario = Scenario("kill-and-hold") {
        Load(.ledgerWrites(rate: 200))
        SteadyState(for: .seconds(10))
        Inject(.killNode(.primary))
        Hold(for: .seconds(10))
        Heal()
        Await(.clusterHealthy(members: 3, sync: 1), within: .seconds(60))
    }

    func statuses(_ vs: [Verdict]) -> [String: VerdictResult.Status] {
        Dictionary(uniqueKeysWithValues: vs.map { ($0.id, $0.result.status) })
    }

    @Test func steadyStateNotMetInjectsNothing() async throws {
        // 10 % errors over the steady state: above the standard hypothesis's 1 %.
        let h = Harness(loadProgress: { ms in LoadProgress(okPerSecond: 360, errorsPerSecond: 40, totalOk: 900, totalErrors: 100, p99Us: 3_000) })
        let obs = await h.runner.run(killPrimary)
        let j = h.journal.all
        #expect(!j.contains { $0.hasPrefix("apply") }, "\(j)")
        #expect(!j.contains { $0.hasPrefix("ledger record") }, "the fault ledger is never written")
        #expect(!j.contains { $0.hasPrefix("revert") || $0 == "heal" }, "nothing to heal")
        #expect(j.contains("load off") && j.contains { $0.hasPrefix("verify") }, "the writes are still read back")
        #expect(try await h.ledger.entries().isEmpty)
        let a = try #require(obs.safetyAbort)
        #expect(a.cause == .steadyState)
        #expect(!a.afterInjection)
        #expect(a.reason == "steady state not met: error rate 10 % (100 of 1000) > 1 %")
        #expect(obs.steadyState?.met == false)
        #expect(obs.injectedAtMs == nil)
        #expect(obs.events.contains { $0.kind == .steadyStateChecked && $0.detail == a.reason })
        #expect(obs.events.contains { $0.kind == .aborted })
        #expect(!obs.cancelled && obs.harnessErrors.isEmpty)

        let vs = Assertions.evaluate(killPrimary, obs)
        let steady = try verdict("steady-state", vs)
        #expect(steady.result == .aborted("aborted: steady state not met, no fault injected: error rate 10 % (100 of 1000) > 1 %"))
        #expect(!vs.contains { $0.id == "abort" }, "no abort condition was watched")
        #expect(try verdict("lost-writes", vs).result.status == .passed, "lost writes are still judged")
        let rto = try verdict("rto", vs)
        #expect(rto.result.status == .skipped)
        #expect(rto.result.message?.hasPrefix("not judged: the run was aborted (steady state not met") == true)
        for v in vs where !SafetyChecks.judgedWhenAborted.contains(v.id) {
            #expect(v.result.status == .skipped, "\(v.id): \(v.result)")
        }
        #expect(ExitStatus.of(vs) == .aborted)
        #expect(ExitStatus.of(vs).rawValue == 7)
    }

    @Test func aSteadyP99SetBelowTheLoadsAbortsToo() async throws {
        let s = killPrimary.applying(try ParameterOverride.parseAll(["steady-p99=1ms"]))
        let h = Harness(loadProgress: steadyProgress)
        let obs = await h.runner.run(s)
        #expect(!h.journal.all.contains { $0.hasPrefix("apply") })
        #expect(obs.safetyAbort?.reason == "steady state not met: p99 2 ms > 1 ms")
        let vs = Assertions.evaluate(s, obs)
        #expect(try verdict("steady-state", vs).result.status == .aborted)
        #expect(ExitStatus.of(vs) == .aborted)
    }

    @Test func aSteadyStateThatHoldsPassesItsVerdictAndTheRunGoesOn() async throws {
        let h = Harness(loadProgress: steadyProgress)
        let obs = await h.runner.run(killPrimary)
        #expect(h.journal.all.contains("apply SIGKILL patroni and postgres on n1"))
        #expect(obs.safetyAbort == nil && obs.steadyState?.met == true)
        let vs = Assertions.evaluate(killPrimary, obs)
        #expect(try verdict("steady-state", vs).result == .passed(measured: .ratio(0), target: .ratio(0.01)))
        #expect(ExitStatus.of(vs) == .passed)
    }

    @Test func anAbortConditionAfterTheInjectHealsAtOnceAndReadsBack() async throws {
        // From 11 s on (the fault went in at 10 s), 95 % of requests fail: error-rate>50%/2s holds from ~11 s.
        let h = Harness(loadProgress: { ms in
            ms < 11_000 ? steadyProgress(ms) : LoadProgress(okPerSecond: 20, errorsPerSecond: 380, totalOk: 4_400, totalErrors: 1_000)
        })
        let condition = try AbortCondition.parse("error-rate>50%/2s")
        let s = holdScenario.addingAbortConditions([condition])
        let obs = await h.runner.run(s)
        let j = h.journal.all
        let apply = try #require(h.journal.index("apply SIGKILL"))
        let revert = try #require(h.journal.index("revert start patroni on n1"), "\(j)")
        let heal = try #require(h.journal.index("heal"))
        let off = try #require(h.journal.index("load off"))
        let verify = try #require(h.journal.index("verify"))
        #expect(apply < revert && revert < heal && heal < off && off < verify, "\(j)")
        #expect(j.filter { $0 == "heal" }.count == 1, "the cleanup heal only: the Heal() step never ran")
        #expect(try await h.ledger.entries().isEmpty)

        let a = try #require(obs.safetyAbort)
        #expect(a.cause == .condition)
        #expect(a.condition == condition)
        #expect(a.afterInjection)
        #expect(a.reason.hasPrefix("error rate above 50 % for 2.0 s: 95 % of requests failed (held "), "\(a.reason)")
        #expect((13_000...14_000).contains(a.atMs), "held 2 s from ~11 s: \(a.atMs)")
        let healStart = try #require(obs.events.first { $0.kind == .healStarted })
        #expect(healStart.detail == "cleanup")
        #expect(healStart.atMs - a.atMs < 300, "healed at once, not after the hold's 10 s")
        #expect(obs.conditions.isEmpty, "the Await after the Heal() step was skipped")
        #expect(!obs.events.contains { $0.kind == .phase && $0.detail == "observe" })

        let vs = Assertions.evaluate(s, obs)
        let abort = try verdict("abort", vs)
        guard case .aborted(let why) = abort.result else { Issue.record("\(abort.result)"); return }
        #expect(why == "aborted: \(a.reason)")
        #expect(abort.notes.contains("cause: condition"))
        #expect(abort.notes.contains("watched: error rate above 50 % for 2.0 s (error-rate>50%/2s)"))
        #expect(try verdict("steady-state", vs).result.status == .passed)
        #expect(try verdict("lost-writes", vs).result.status == .passed)
        #expect(ExitStatus.of(vs) == .aborted)
    }

    @Test func abortConditionsThatNeverHoldLeaveAPassingVerdict() async throws {
        let h = Harness(loadProgress: steadyProgress, disk: ["n1": 0.5, "n2": 0.5, "n3": 0.5])
        let s = holdScenario.addingAbortConditions([.errorRate(above: 0.5, for: .seconds(2)), .diskFree(below: 0.05)])
        let obs = await h.runner.run(s)
        #expect(obs.safetyAbort == nil)
        let vs = Assertions.evaluate(s, obs)
        #expect(try verdict("abort", vs).result == .passed(measured: .count(0), target: .count(0)))
        #expect(ExitStatus.of(vs) == .passed)
    }

    @Test func aFullDiskAbortsAtOnce() async throws {
        let h = Harness(loadProgress: steadyProgress, disk: ["n1": 0.5, "n2": 0.03, "n3": 0.5])
        let s = holdScenario.addingAbortConditions([.diskFree(below: 0.05)])
        let obs = await h.runner.run(s)
        let a = try #require(obs.safetyAbort)
        #expect(a.condition == .diskFree(below: 0.05))
        #expect(a.reason == "a data volume under 5 % free: n2's data volume 3 % free")
        #expect(a.atMs < 11_000, "the first sample after the inject: \(a.atMs)")
        #expect(ExitStatus.of(Assertions.evaluate(s, obs)) == .aborted)
    }

    @Test func aFaultBeyondTheBlastRadiusIsRefused() async throws {
        let radius = BlastRadius(owned: true, members: ["n2", "n3"], subnet: nil)
        let h = Harness(loadProgress: steadyProgress, radius: radius)
        let obs = await h.runner.run(killPrimary)
        let j = h.journal.all
        #expect(!j.contains { $0.hasPrefix("apply") }, "\(j)")
        #expect(!j.contains { $0.hasPrefix("ledger record") })
        #expect(j.contains { $0.hasPrefix("verify") })
        let a = try #require(obs.safetyAbort)
        #expect(a.cause == .blastRadius)
        #expect(a.reason.hasPrefix("refused to inject SIGKILL patroni and postgres on n1: member n1 was not created by this environment"))
        #expect(a.reason.contains("--target n1"))
        #expect(obs.events.contains { $0.kind == .faultRefused && $0.member == "n1" })
        #expect(!obs.events.contains { $0.kind == .faultInjected })
        let vs = Assertions.evaluate(killPrimary, obs)
        #expect(try verdict("abort", vs).notes.contains("cause: blast-radius"))
        #expect(ExitStatus.of(vs) == .aborted)

        // Named with --target, it goes in.
        let named = Harness(loadProgress: steadyProgress, radius: radius)
        var runner = named.runner
        runner.allowedTargets = ["n1"]
        let ok = await runner.run(killPrimary)
        #expect(named.journal.all.contains("apply SIGKILL patroni and postgres on n1"))
        #expect(ok.safetyAbort == nil)
        #expect(ExitStatus.of(Assertions.evaluate(killPrimary, ok)) == .passed)
    }

    @Test func aFaultOutsideTheSubnetOrOnAForeignEnvironmentIsRefused() async throws {
        let foreign = BlastRadius(owned: false, ownership: "no owner.json", members: ["n1", "n2", "n3"], subnet: nil)
        let h = Harness(loadProgress: steadyProgress, radius: foreign)
        let obs = await h.runner.run(killPrimary)
        #expect(!h.journal.all.contains { $0.hasPrefix("apply") })
        #expect(obs.safetyAbort?.reason.contains("not brought up by Faultline (no owner.json)") == true)

        let star = Harness(loadProgress: steadyProgress, radius: foreign)
        var runner = star.runner
        runner.allowedTargets = ["*"]
        _ = await runner.run(killPrimary)
        #expect(star.journal.all.contains("apply SIGKILL patroni and postgres on n1"))
    }

    @Test func aFacilitatorsAbortDuringAHoldIsRequested() async throws {
        let stopRef = Mutex<StopRequest?>(nil)
        let h = Harness(loadProgress: { ms in
            if ms >= 14_000 { stopRef.withLock { $0 }?.abort("facilitator: the pager went off") }
            return steadyProgress(ms)
        })
        stopRef.withLock { $0 = h.stop }
        let obs = await h.runner.run(holdScenario)
        let a = try #require(obs.safetyAbort)
        #expect(a.cause == .requested)
        #expect(a.reason == "facilitator: the pager went off")
        #expect(a.condition == nil)
        #expect((14_000...14_500).contains(a.atMs), "\(a.atMs)")
        #expect(!obs.cancelled, "an abort is not a Ctrl-C")
        #expect(h.journal.all.contains("heal"))
        #expect(h.journal.all.contains { $0.hasPrefix("verify") })
        #expect(try await h.ledger.entries().isEmpty)
        let vs = Assertions.evaluate(holdScenario, obs)
        #expect(try verdict("abort", vs).notes.contains("cause: requested"))
        #expect(!vs.contains { $0.result.status == .error })
        #expect(ExitStatus.of(vs) == .aborted)
    }

    @Test func notesTypedDuringAHoldLandInTheTimelineAtTheirTime() async throws {
        let journalRef = RunJournal()
        let written = Mutex<[RunJournal.Entry]>([])
        let h = Harness(loadProgress: { ms in
            if ms >= 15_000, written.withLock({ $0.isEmpty }) {
                let e = journalRef.add(.note, "n1 is gone from the dashboard")
                written.withLock { $0.append(e) }
            }
            if ms >= 17_000, written.withLock({ $0.count == 1 }) {
                let e = journalRef.add(.observation, "the app retried on its own")
                written.withLock { $0.append(e) }
            }
            return steadyProgress(ms)
        })
        var runner = h.runner
        runner.journal = journalRef
        let obs = await runner.run(holdScenario)
        let entries = written.withLock { $0 }
        #expect(entries.count == 2)
        let note = try #require(obs.events.first { $0.kind == .note })
        let observation = try #require(obs.events.first { $0.kind == .observation })
        #expect(note.detail == "n1 is gone from the dashboard")
        #expect(observation.detail == "the app retried on its own")
        // The fakes spend no time before the load starts: ms since the run started are ms since the load started.
        #expect(note.atMs == entries[0].atRunMs)
        #expect(observation.atMs == entries[1].atRunMs)
        #expect((15_000...15_300).contains(note.atMs))
        let injected = try #require(obs.injectedAtMs)
        let healed = try #require(obs.events.first { $0.kind == .healStarted }?.atMs)
        #expect(injected < note.atMs && observation.atMs < healed, "inside the hold")
        let i = try #require(obs.events.firstIndex { $0.kind == .note })
        #expect(obs.events[..<i].allSatisfy { $0.atMs <= note.atMs }, "merged in time order")
        #expect(obs.events[(i + 1)...].allSatisfy { $0.atMs >= note.atMs })
    }

    @Test func theStepGateIsAwaitedOncePerStepInOrder() async throws {
        let gated = Mutex<[Int]>([])
        let h = Harness(loadProgress: steadyProgress)
        var runner = h.runner
        runner.stepGate = { i, step in
            gated.withLock { $0.append(i) }
            #expect(step == killPrimary.steps[i])
        }
        let obs = await runner.run(killPrimary)
        #expect(gated.withLock { $0 } == [0, 1, 2, 3])
        #expect(ExitStatus.of(Assertions.evaluate(killPrimary, obs)) == .passed)
        let steps = h.progress.all.compactMap(\.step)
        #expect(steps == [0, 1, 2, 3], "each gate reports the step it waits at")
    }

    @Test func aStopDuringTheGateWaitEndsIt() async throws {
        let h = Harness(loadProgress: steadyProgress)
        let gated = Mutex<[Int]>([])
        let (entered, cont) = AsyncStream<Int>.makeStream()
        var runner = h.runner
        runner.stepGate = { i, _ in
            gated.withLock { $0.append(i) }
            cont.yield(i)
            if i == 1 { try? await Task.sleep(for: .seconds(3_600)) }  // Enter never pressed: only the stop ends it
        }
        let gatedRunner = runner
        let obs = await withTaskGroup(of: Observations?.self) { group in
            group.addTask { await gatedRunner.run(killPrimary) }
            group.addTask {
                for await i in entered where i == 1 { break }
                h.stop.request()
                return nil
            }
            var result: Observations?
            for await o in group { if let o { result = o } }
            return result
        }
        let o = try #require(obs)
        #expect(gated.withLock { $0 } == [0, 1], "no gate after the stop")
        #expect(o.cancelled)
        #expect(o.conditions.isEmpty, "the step waited at did not run")
        #expect(h.journal.all.contains("apply SIGKILL patroni and postgres on n1"))
        #expect(h.journal.all.contains("heal") && h.journal.all.contains("load off"))
        #expect(try await h.ledger.entries().isEmpty)
    }

    @Test func anAbortDuringTheGateWaitEndsItAborted() async throws {
        let h = Harness(loadProgress: steadyProgress)
        let (entered, cont) = AsyncStream<Int>.makeStream()
        var runner = h.runner
        runner.stepGate = { i, _ in
            cont.yield(i)
            try? await Task.sleep(for: .seconds(3_600))
        }
        let gatedRunner = runner
        let obs = await withTaskGroup(of: Observations?.self) { group in
            group.addTask { await gatedRunner.run(killPrimary) }
            group.addTask {
                for await _ in entered { break }
                h.stop.abort("facilitator")
                return nil
            }
            var result: Observations?
            for await o in group { if let o { result = o } }
            return result
        }
        let o = try #require(obs)
        #expect(o.safetyAbort?.cause == .requested)
        #expect(!o.cancelled)
        #expect(!h.journal.all.contains { $0.hasPrefix("apply") }, "gated before the inject: nothing applied")
        #expect(h.journal.all.contains { $0.hasPrefix("verify") })
        #expect(ExitStatus.of(Assertions.evaluate(killPrimary, o)) == .aborted)
    }
}
