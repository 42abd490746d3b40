import Testing
import Logging
import Synchronization
@testable import Faultline
import Scenarios

@Suite("Run state machine")
struct StateMachineTests {
    @Test func happyPathRunsEveryPhaseInOrder() {
        let (a, m) = drive(killPrimary)
        #expect(a == [
            .preflight(ClusterShape(members: 3, sync: 1)),
            .startLoad([.ledgerWrites(rate: 200), .replicaReads(rate: 200)]),
            .holdSteadyState(.seconds(10)),
            .inject(step: 0, .killNode(.primary)),
            .await(step: 1, .newPrimary, within: .seconds(30)),
            .heal(step: 2),
            .await(step: 3, .clusterHealthy(members: 3, sync: 1), within: .seconds(60)),
            .observe(.seconds(5)),
            .stopLoad, .verifyWrites, .finish,
        ])
        #expect(m.abort == nil)
        #expect(!m.healOwed && !m.loadRunning)
    }

    @Test func injectFailureStillHealsAndStopsLoad() {
        let (a, m) = drive(killPrimary) { if case .inject = $0 { .failed("ssh down") } else { .completed } }
        #expect(Array(a.suffix(3)) == [.heal(step: nil), .stopLoad, .finish])
        #expect(m.abort == .failed("ssh down"))
        #expect(m.phase == .done)
    }

    @Test func cancelDuringAwaitHealsThenStopsLoadWithoutReadBack() {
        let (a, m) = drive(killPrimary) { if case .await = $0 { .cancelled } else { .completed } }
        #expect(Array(a.suffix(4)) == [.await(step: 1, .newPrimary, within: .seconds(30)), .heal(step: nil), .stopLoad, .finish])
        #expect(m.abort == .cancelled)
    }

    @Test func cancelBeforeInjectionNeedsNoHeal() {
        let (a, _) = drive(killPrimary) { $0 == .holdSteadyState(.seconds(10)) ? .cancelled : .completed }
        #expect(!a.contains(.heal(step: nil)))
        #expect(Array(a.suffix(2)) == [.stopLoad, .finish])
    }

    @Test func preflightFailureTouchesNothing() {
        let (a, m) = drive(killPrimary) { if case .preflight = $0 { .failed("n3 down") } else { .completed } }
        #expect(a == [.preflight(ClusterShape(members: 3, sync: 1)), .finish])
        #expect(m.abort == .failed("n3 down"))
    }

    @Test func scenarioWithoutHealGetsTheCleanupHeal() {
        let s = Scenario("no-heal") { Load(.ledgerWrites(rate: 5)); SteadyState(for: .zero); Inject(.killPostgres(.primary)) }
        let (a, m) = drive(s)
        #expect(a == [.preflight(ClusterShape(members: 3, sync: 1)), .startLoad([.ledgerWrites(rate: 5)]),
                      .inject(step: 0, .killPostgres(.primary)), .heal(step: nil), .observe(.seconds(5)),
                      .stopLoad, .verifyWrites, .finish])
        #expect(m.abort == nil)
    }

    @Test func observationWindowIsSetByTargetsAndOverride() throws {
        let s = killPrimary.applying(try ParameterOverride.parseAll(["observe=12s"]))
        #expect(drive(s).actions.contains(.observe(.seconds(12))))
        let off = killPrimary.applying(try ParameterOverride.parseAll(["observe=0s"]))
        let (a, m) = drive(off)
        #expect(!a.contains { if case .observe = $0 { true } else { false } })
        #expect(Array(a.suffix(4)) == [.await(step: 3, .clusterHealthy(members: 3, sync: 1), within: .seconds(60)),
                                       .stopLoad, .verifyWrites, .finish])
        #expect(m.abort == nil)
    }

    @Test func noObservationAfterAFailedRun() {
        // A failure before the heal: the cleanup heal runs, but there is nothing to observe.
        let (a, _) = drive(killPrimary) { if case .inject = $0 { .failed("ssh down") } else { .completed } }
        #expect(!a.contains(.observe(.seconds(5))))
        // A scenario that never injects owes no heal and observes nothing either.
        let s = Scenario("only-await") { Load(.ledgerWrites(rate: 5)); SteadyState(for: .zero); Heal() }
        #expect(!drive(s).actions.contains(.observe(.seconds(5))))
    }

    @Test func cancelDuringObservationStopsTheLoadWithoutReadBack() {
        let (a, m) = drive(killPrimary) { if case .observe = $0 { .cancelled } else { .completed } }
        #expect(Array(a.suffix(3)) == [.observe(.seconds(5)), .stopLoad, .finish])
        #expect(a.filter { if case .heal = $0 { true } else { false } } == [.heal(step: 2)], "healed already: no second heal")
        #expect(m.abort == .cancelled)
    }

    @Test func failedHealIsRetriedOnceOnTheWayOut() {
        let (a, m) = drive(killPrimary) { if case .heal = $0 { .failed("patronictl timeout") } else { .completed } }
        #expect(a.filter { if case .heal = $0 { true } else { false } } == [.heal(step: 2), .heal(step: nil)])
        #expect(Array(a.suffix(2)) == [.stopLoad, .finish])
        #expect(m.abort == .failed("patronictl timeout"))
    }

    @Test func settlePhaseFollowsHeal() {
        var m = RunStateMachine(scenario: killPrimary)
        var action = m.start()
        var phases: [RunPhase] = [m.phase]
        while action != .finish { action = m.handle(.completed); phases.append(m.phase) }
        #expect(phases == [.preflight, .steadyState, .steadyState, .inject, .await, .heal, .settle, .observe, .loadOff, .verify, .done])
    }
}

@Suite("Runner with a fake cluster and a virtual clock")
struct RunnerTests {
    struct Harness {
        let clock = VirtualClock()
        let journal = Journal()
        let cluster: FakeCluster
        let load: FakeLoad
        let ledger: InMemoryLedger
        let applyStarted: AsyncStream<Void>
        let runner: Runner<VirtualClock>
        let progress = ProgressLog()
        let stop = StopRequest()

        init(mode: FakeCluster.Mode = .normal, missing: [String] = [], leftovers: [FaultLedgerEntry] = [], clockedLoad: Bool = false,
             verifyFailures: Int = 0, takeBackAtReadBack: Bool = false, members: [String: String] = [:],
             memberMissing: [String: [String]]? = nil, operations: [String: FakeOperation] = [:],
             loadObservations: LoadObservations = Fixture.shortOutage, commits: [[String: Double]?]? = nil,
             loadProgress: (@Sendable (Int) -> LoadProgress)? = nil, radius: BlastRadius? = nil, disk: [String: Double]? = nil) {
            let (stream, cont) = AsyncStream<Void>.makeStream()
            applyStarted = stream
            let c = FakeCluster(clock: clock, journal: journal, mode: mode, applyStarted: cont, operations: operations, members: members,
                                radius: radius, disk: disk)
            cluster = c
            var onVerify: (@Sendable (Int) async -> Void)? = nil
            if takeBackAtReadBack {
                onVerify = { @Sendable (n: Int) async in if n == 1 { await c.takeBack() } }
            }
            load = FakeLoad(observations: loadObservations, missing: missing, journal: journal, clock: clockedLoad ? clock : nil,
                            verifyFailures: verifyFailures, onVerify: onVerify, memberMissing: memberMissing, commits: commits,
                            progressAt: loadProgress, progressClock: clock)
            ledger = InMemoryLedger(journal: journal, stored: leftovers)
            let p = progress
            var r = Runner(environment: cluster, load: load, ledger: ledger, clock: clock, runId: "r1",
                           logger: Logger(label: "test"), stop: stop, onProgress: { p.add($0) })
            r.safetyWait = clock.passiveWait  // only the runner moves virtual time
            runner = r
        }
    }

    /// Runs `scenario` and presses Ctrl-C (a stop request) once the fake cluster signals that an apply or an
    /// operation started and hangs there; the run's observations.
    static func stopWhileHanging(_ h: Harness, _ scenario: Scenario) async -> Observations? {
        await withTaskGroup(of: Observations?.self) { group in
            group.addTask { await h.runner.run(scenario) }
            group.addTask {
                for await _ in h.applyStarted { break }  // the runner is now stuck inside apply or perform
                return nil
            }
            _ = await group.next()  // the signal comes first: the run cannot finish while it hangs
            h.stop.request()        // Ctrl-C: the hanging call is cancelled, the heal is not
            var result: Observations?
            for await o in group { if let o { result = o } }
            return result
        }
    }

    final class ProgressLog: Sendable {
        private let items = Mutex<[RunProgress]>([])
        func add(_ p: RunProgress) { items.withLock { $0.append(p) } }
        var all: [RunProgress] { items.withLock { $0 } }
    }

    @Test func killPrimaryEndToEnd() async throws {
        let h = Harness()
        let obs = await h.runner.run(killPrimary)
        let j = h.journal.all
        // The reversal is in the ledger before the fault takes effect; revert before heal; ledger cleared after.
        let record = try #require(h.journal.index("ledger record start patroni on n1"))
        let apply = try #require(h.journal.index("apply SIGKILL patroni and postgres on n1"))
        let revert = try #require(h.journal.index("revert start patroni on n1"))
        let heal = try #require(h.journal.index("heal"))
        let remove = try #require(h.journal.index("ledger remove r1/1"))
        #expect(record < apply && apply < revert && revert < heal && heal < remove, "\(j)")
        #expect(j.first == "load on ledger-writes,replica-reads")
        #expect(h.journal.index("load off")! < h.journal.index("verify")!)
        #expect(try await h.ledger.entries().isEmpty)

        // One timeline, in ms since load start: steady state 10 s, then injection, detection, promotion.
        let t0 = try #require(obs.injectedAtMs)
        #expect(t0 >= 10_000 && t0 < 10_300)
        let lost = try #require(obs.first(.leaderLost, atOrAfter: t0))
        let elected = try #require(obs.first(.leaderElected, atOrAfter: t0))
        #expect(lost.member == "n1" && elected.member == "n2")
        #expect((1_000...1_300).contains(lost.atMs - t0), "detection seen on the first poll after 1 s")
        #expect((3_000...3_300).contains(elected.atMs - t0))
        #expect(obs.primaryAtInjection == "n1")
        #expect(obs.conditions.count == 2)
        #expect(obs.conditions.allSatisfy { $0.metAtMs != nil })
        #expect(obs.readBack == ReadBack(checked: obs.load.acked.count, missing: [], attempts: 1))
        #expect(obs.topologyAfter?.isHealthy(ClusterShape(members: 3, sync: 1)) == true)
        #expect(obs.harnessErrors.isEmpty && !obs.cancelled)
        #expect(ExitStatus.of(Assertions.evaluate(killPrimary, obs)) == .passed)

        // Live progress: every phase, with load numbers while it runs.
        let phases = h.progress.all.map(\.phase)
        for p in [RunPhase.preflight, .steadyState, .inject, .await, .heal, .settle, .observe, .loadOff, .verify, .done] {
            #expect(phases.contains(p), "no progress for \(p)")
        }
        #expect(h.progress.all.contains { $0.phase == .await && $0.load?.okPerSecond == 400 })
    }

    @Test func readBackRetriesWhileTheClusterRefusesIt() async throws {
        let h = Harness(verifyFailures: 2)
        let obs = await h.runner.run(killPrimary)
        #expect(obs.readBack == ReadBack(checked: obs.load.acked.count, missing: [], attempts: 3))
        #expect(h.journal.all.filter { $0.hasPrefix("verify") }.count == 3)
        #expect(ExitStatus.of(Assertions.evaluate(killPrimary, obs)) == .passed)
    }

    @Test func readBackGivesUpAfterItsPatienceWithTheLastReason() async throws {
        let h = Harness(verifyFailures: 1_000)
        let obs = await h.runner.run(killPrimary)
        let rb = try #require(obs.readBack)
        #expect(rb.error?.contains("port 5000 failed") == true, "\(rb)")
        #expect(rb.error?.contains("61 attempts over 1 m 0 s") == true, "\(rb)")
        let lost = try #require(Assertions.evaluate(killPrimary, obs).first { $0.id == "lost-writes" })
        #expect(lost.result.status == .error, "a read-back that never answered is a harness error, never a pass")
    }

    @Test func readBackOnAPrimaryThatLosesTheLeaderKeyMeanwhileIsRepeatedOnTheNewOne() async throws {
        // The first read-back answers from n2, but by its end n1 has taken the key back on timeline 3:
        // that answer does not count; the second, on a stable n1, does.
        let victim = Fixture.shortOutage.acked[42].id
        let h = Harness(missing: [victim], takeBackAtReadBack: true)
        let obs = await h.runner.run(killPrimary)
        #expect(obs.readBack == ReadBack(checked: obs.load.acked.count, missing: [victim], attempts: 2))
        #expect(obs.topologyAfter?.primary?.name == "n1" && obs.topologyAfter?.primary?.timeline == 3)
        let lost = try #require(Assertions.evaluate(killPrimary, obs).first { $0.id == "lost-writes" })
        #expect(lost.result.status == .failed)
    }

    @Test func loadRunsThroughTheObservationWindowSoAfterHealVerdictsAreMeasured() async throws {
        // A load whose windows cover exactly the time it ran (virtual clock): what the runner observed.
        let h = Harness(clockedLoad: true)
        let obs = await h.runner.run(killPrimary)
        let healed = try #require(obs.healFinishedAtMs)
        let settled = try #require(obs.conditions.last?.metAtMs)
        let stopped = try #require(obs.loadStoppedAtMs)
        #expect(settled >= healed)
        #expect(stopped - settled >= 5_000 && stopped - settled < 5_300, "load on for the 5 s window after settle")
        #expect(obs.events.contains { $0.kind == .phase && $0.detail == "observe" })
        let vs = Assertions.evaluate(killPrimary, obs)
        let after = try #require(vs.first { $0.id == "error-budget-after" })
        #expect(after.result.status == .passed, "\(after.result)")
        #expect(after.result.measured == .ratio(0))
        #expect(after.notes.contains { $0.contains("errors in") })
        let p99 = try #require(Assertions.evaluate(killPrimary.applying([.init(parameter: .p99, value: .duration(.milliseconds(100)))]), obs).first { $0.id == "p99-after" })
        #expect(p99.result.status == .passed, "\(p99.result)")
        #expect(p99.result.measured == .ms(2))
    }

    @Test func withoutObservationTheLoadStopsAtSettle() async throws {
        let s = killPrimary.applying([.init(parameter: .observe, value: .duration(.zero))])
        let h = Harness(clockedLoad: true)
        let obs = await h.runner.run(s)
        let settled = try #require(obs.conditions.last?.metAtMs)
        let stopped = try #require(obs.loadStoppedAtMs)
        #expect(stopped - settled < 300)
        #expect(!obs.events.contains { $0.kind == .phase && $0.detail == "observe" })
    }

    @Test func runIsDeterministic() async {
        let a = await Harness().runner.run(killPrimary)
        let b = await Harness().runner.run(killPrimary)
        #expect(a == b)
    }

    @Test func switchoverResolvesTheSyncStandbyAtInjection() async throws {
        let h = Harness()
        let obs = await h.runner.run(switchover)
        #expect(h.journal.all.contains("apply switchover n1 -> n2"))
        #expect(h.journal.all.contains("ledger record nothing to undo"))
        #expect(!h.journal.all.contains { $0.hasPrefix("revert") }, "nothing to undo, but the full heal still runs")
        #expect(h.journal.all.contains("heal"))
        #expect(obs.conditions.first?.metAtMs != nil)
    }

    @Test func applyFailureIsAHarnessErrorAndStillHeals() async throws {
        let h = Harness(mode: .applyThrows)
        let obs = await h.runner.run(killPrimary)
        #expect(obs.harnessErrors.contains { $0.contains("ssh: connection refused") })
        #expect(h.journal.all.contains("revert start patroni on n1"))
        #expect(h.journal.all.contains("heal"))
        #expect(h.journal.all.contains("load off"))
        #expect(!h.journal.all.contains { $0.hasPrefix("verify") })
        #expect(try await h.ledger.entries().isEmpty)
        #expect(ExitStatus.of(Assertions.evaluate(killPrimary, obs)) == .harnessError)
    }

    @Test func failedHealKeepsTheLedgerForFaultlineHeal() async throws {
        let h = Harness(mode: .healThrows)
        let obs = await h.runner.run(killPrimary)
        #expect(obs.harnessErrors.contains { $0.contains("patronictl: timeout") })
        #expect(h.journal.all.filter { $0 == "heal" }.count == 2, "the heal step, then one cleanup attempt")
        #expect(try await h.ledger.entries().map(\.id) == ["r1/1"])
        #expect(h.journal.all.contains("load off"))
    }

    @Test func cancellationHealsAndStopsTheLoad() async throws {
        let h = Harness(mode: .applyHangs)
        let obs = await Self.stopWhileHanging(h, killPrimary)
        let o = try #require(obs)
        #expect(o.cancelled)
        #expect(o.events.contains { $0.kind == .cancelled })
        let j = h.journal.all
        let apply = try #require(h.journal.index("apply"))
        #expect(try #require(h.journal.index("revert start patroni on n1")) > apply, "\(j)")
        #expect(j.contains("heal"))
        #expect(j.contains("load off"))
        #expect(try await h.ledger.entries().isEmpty)
        #expect(ExitStatus.of(Assertions.evaluate(killPrimary, o)) == .harnessError)
    }

    @Test func unhealthyClusterIsRefusedUntouched() async {
        let h = Harness(mode: .unhealthyAtStart)
        let obs = await h.runner.run(killPrimary)
        #expect(h.journal.all.isEmpty, "\(h.journal.all)")
        #expect(obs.harnessErrors.first?.contains("not running: n3") == true)
        #expect(ExitStatus.of(Assertions.evaluate(killPrimary, obs)) == .harnessError)
    }

    @Test func leftoverLedgerEntriesAreRefused() async {
        let old = FaultLedgerEntry(id: "r0/1", runId: "r0", scenario: "kill-primary", action: .killNode(member: "n1"),
                                   reversal: .startNode(member: "n1"))
        let h = Harness(leftovers: [old])
        let obs = await h.runner.run(killPrimary)
        #expect(obs.harnessErrors.first?.contains("faultline heal") == true)
        #expect(h.journal.all.isEmpty)
    }

    @Test func noPromotionFailsTheAwaitButStillHealsAndSettles() async throws {
        let h = Harness(mode: .neverPromotes)
        let s = killPrimary.applying([.init(parameter: .await, value: .duration(.seconds(5))),
                                      .init(parameter: .settle, value: .duration(.seconds(3)))])
        let obs = await h.runner.run(s)
        let awaitResult = try #require(obs.conditions.first)
        #expect(awaitResult.metAtMs == nil)
        #expect(awaitResult.lastSeen.contains("n1=down"))
        #expect(obs.events.contains { $0.kind == .conditionTimedOut })
        #expect(h.journal.all.contains("heal"))
        let vs = Assertions.evaluate(s, obs)
        #expect(vs.first { $0.id == "await-new-primary" }?.result.status == .failed)
        #expect(ExitStatus.of(vs) == .targetFailed)
    }

    @Test func topologyErrorsDuringFailoverAreRecordedNotFatal() async {
        let h = Harness(mode: .topologyThrowsDuringOutage)
        let obs = await h.runner.run(killPrimary)
        #expect(obs.events.filter { $0.kind == .topologyUnavailable }.count == 1, "recorded once, not every poll")
        #expect(obs.harnessErrors.isEmpty)
        #expect(obs.conditions.first?.metAtMs != nil)
    }

    @Test func lostWritesFromReadBackReachTheVerdict() async throws {
        let victim = Fixture.shortOutage.acked[42].id
        let h = Harness(missing: [victim])
        let obs = await h.runner.run(killPrimary)
        let v = try #require(Assertions.evaluate(killPrimary, obs).first { $0.id == "lost-writes" })
        #expect(v.items == [victim])
    }
}

@Suite("Conditions")
struct ConditionTests {
    let healthy = Topology(members: [Member(name: "n1", role: .primary), Member(name: "n2", role: .syncStandby),
                                     Member(name: "n3", role: .asyncReplica)])

    @Test func newPrimaryNeedsAnotherMember() {
        let ctx = ConditionContext(primaryAtInjection: "n1", primaryLostSinceInjection: true)
        #expect(!Condition.newPrimary.holds(in: healthy, ctx))
        var t = healthy
        t.members[0].role = .down
        t.members[1].role = .primary
        #expect(Condition.newPrimary.holds(in: t, ctx))
    }

    @Test func primaryRecoveredNeedsALossFirst() {
        #expect(!Condition.primaryRecovered.holds(in: healthy, ConditionContext(primaryAtInjection: "n1", primaryLostSinceInjection: false)))
        #expect(Condition.primaryRecovered.holds(in: healthy, ConditionContext(primaryAtInjection: "n1", primaryLostSinceInjection: true)))
    }
}
