import Logging
import Synchronization

/// Executes a scenario against an environment with the load running throughout, and records one timeline.
///
/// The control flow is `RunStateMachine`; this type performs its actions. The load runs as a child task
/// of a task group for the whole run; "load off" cancels that child. Heal runs on every exit path; the
/// cleanup heal on the way out is shielded from cancellation, so Ctrl-C still heals. `run` never throws:
/// failures land in `Observations.harnessErrors`.
///
/// A heal that undid every fault but left the cluster unsettled (`ClusterDidNotRecover`) is the system's failure,
/// not the harness's: it lands in `Observations.recoveryFailure` (the `cluster-recovered` verdict fails, exit 1),
/// and the acknowledged writes are still read back, on every member that answers. A reversal that failed, or
/// any other heal error, stays a harness error (exit 3).
public struct Runner<C: Clock>: Sendable where C.Duration == Duration {
    public var environment: any Environment
    public var load: any LoadDriver
    public var ledger: any FaultLedgerStore
    public var clock: C
    public var runId: String
    /// How often the topology is polled while waiting.
    public var pollInterval: Duration
    /// How long the read-back of acknowledged writes is retried while the cluster refuses it or changes hands.
    public var readBackPatience: Duration = .seconds(60)
    public var logger: Logger
    public var onProgress: @Sendable (RunProgress) -> Void
    /// Ctrl-C: stop the steps, heal and stop the load (see `StopRequest`); `StopRequest.abort` ends the run `aborted`.
    public var stop: StopRequest
    /// Awaited before each step begins (a game day waits for Enter here); a stop request ends the wait. nil: no wait.
    public var stepGate: (@Sendable (Int, Step) async -> Void)?
    /// Notes typed during the run, merged into the timeline at their time (a game day's); nil: none.
    public var journal: RunJournal?
    /// What the user named explicitly with `--target`: members or addresses a fault may touch beyond the environment's
    /// blast radius (`*`: anything, `environment`: one Faultline did not bring up).
    public var allowedTargets: Set<String> = []
    /// Also read the alerts (about once a second) and report the whole topology in `RunProgress` (a game day's live view).
    public var liveDetail = false
    /// How often the abort conditions are sampled while the steps run.
    public var safetyInterval: Duration = .milliseconds(500)
    /// How the abort watcher waits `safetyInterval` between samples; nil: `clock.sleep(for:)`. A test's virtual
    /// clock, which jumps to any deadline slept on, passes a wait that lets only the run's own sleeps move time.
    public var safetyWait: (@Sendable (Duration) async throws -> Void)?

    public init(environment: any Environment, load: any LoadDriver, ledger: any FaultLedgerStore, clock: C,
                runId: String, pollInterval: Duration = .milliseconds(200), logger: Logger, stop: StopRequest = StopRequest(),
                onProgress: @escaping @Sendable (RunProgress) -> Void = { _ in }) {
        self.stop = stop
        self.environment = environment
        self.load = load
        self.ledger = ledger
        self.clock = clock
        self.runId = runId
        self.pollInterval = pollInterval
        self.logger = logger
        self.onProgress = onProgress
    }

    enum LoadOutcome: Sendable {
        case finished(LoadObservations)
        case failed(String)
    }

    public func run(_ scenario: Scenario) async -> Observations {
        var machine = RunStateMachine(scenario: scenario)
        var rec = Recorder(origin: clock.now)
        let origin = rec.origin, clock = self.clock
        journal?.attach { origin.duration(to: clock.now).milliseconds }
        let watch = WatchControl()
        var action = machine.start()
        await withTaskGroup(of: Void.self) { watchers in
          if !scenario.abortConditions.isEmpty {
            watchers.addTask { await self.watch(AbortWatch(scenario.abortConditions), watch, origin: origin) }
          }
          await withTaskGroup(of: LoadOutcome.self) { group in
            var gated: Int?
            while action != .finish {
                watch.armed = machine.safetyAbort == nil && [.inject, .operate, .await].contains(machine.phase)
                var event: RunStateMachine.Event
                if await gate(action, machine, scenario, &gated, &rec), stopping {
                    event = .cancelled
                } else {
                    event = await perform(action, scenario, &rec, phase: machine.phase, group: &group)
                }
                if stopping, machine.safetyAbort == nil, let why = stop.abortReason, event == .completed || event == .cancelled {
                    // A safety limit (or a facilitator) asked to abort: heal now, stop the load, read the writes back.
                    event = .aborted(why)
                    let trigger = watch.trigger
                    let cause = rec.abortCause ?? (trigger != nil ? .condition : .requested)
                    rec.safetyAbort = SafetyAbort(cause: cause, atMs: rec.ms(clock.now), reason: why, condition: trigger?.condition,
                                                  afterInjection: rec.firstInjection != nil)
                    rec.add(.aborted, at: clock.now, detail: why)
                } else if stopping, event == .completed, machine.safetyAbort == nil {
                    event = .cancelled
                }
                switch event {
                case .completed: break
                case .failed(let m):
                    logger.error("\(machine.phase.rawValue): \(m)")
                    rec.harnessErrors.append(m)
                    rec.add(.harnessError, at: clock.now, detail: m)
                case .cancelled:
                    if !rec.cancelled { logger.warning("cancelled: healing and stopping the load") }
                    if !rec.cancelled { rec.add(.cancelled, at: clock.now) }
                    rec.cancelled = true
                case .unsupported(let m):
                    logger.warning("unsupported here: \(m); verdicts will be skipped")
                case .stepFailed(let m):
                    logger.error("\(m); skipping the remaining steps, healing")
                case .clusterDidNotRecover(let m):
                    logger.error("the cluster did not recover after the heal: \(m); stopping the load, reading writes back on every member")
                case .aborted(let m):
                    logger.error("aborted: \(m); healing now, stopping the load, reading writes back")
                }
                action = machine.handle(event)
                logger.debug("next: \(action)")
            }
            group.cancelAll()  // the load is already stopped on every path that started it
          }
          watchers.cancelAll()
        }
        if let journal {
            for e in journal.entries {
                rec.events.append((rec.origin.advanced(by: .milliseconds(e.atRunMs ?? 0)), e.kind == .note ? .note : .observation, nil, e.text))
            }
        }
        rec.probes = await environment.probeReport()
        onProgress(RunProgress(phase: .done, elapsedMs: rec.ms(clock.now)))
        return rec.observations()
    }

    /// Ctrl-C (a stop request), an abort or a cancelled task: the run goes to its cleanup.
    private var stopping: Bool { Task.isCancelled || stop.isRequested }
    /// Ctrl-C or a cancelled task, not an abort: an aborted run still reads its writes back.
    private var cancelling: Bool { Task.isCancelled || (stop.isRequested && stop.abortReason == nil) }

    /// Waits at the step gate when `action` begins a step not gated yet (a game day's Enter); true when it waited.
    private func gate(_ action: RunStateMachine.Action, _ machine: RunStateMachine, _ scenario: Scenario, _ gated: inout Int?,
                      _ rec: inout Recorder) async -> Bool {
        guard let gate = stepGate, let i = machine.lastStepStarted, i != gated, machine.safetyAbort == nil else { return false }
        switch action {
        case .inject, .operate, .await, .heal(.some), .holdSteadyState: break
        default: return false
        }
        gated = i
        onProgress(RunProgress(phase: machine.phase, elapsedMs: rec.ms(clock.now), topology: rec.lastTopology?.summary,
                               members: rec.lastTopology, step: i))
        let step = scenario.steps[i]
        _ = try? await unlessStopped { await gate(i, step) }
        return true
    }

    /// Samples what the abort conditions watch every `safetyInterval` while `control` is armed, and aborts the run
    /// (`StopRequest.abort`) when one holds. Lost writes are read after each change of primary, the disk every 2 s.
    private func watch(_ initial: AbortWatch, _ control: WatchControl, origin: C.Instant) async {
        var w = initial
        var checkedPrimary: String?
        var lost: Int?
        var nextDisk = clock.now
        var disk: [String: Double]?
        while !Task.isCancelled {
            do {
                if let safetyWait { try await safetyWait(safetyInterval) } else { try await clock.sleep(for: safetyInterval) }
            } catch { return }
            guard control.armed, !stop.isRequested else { continue }
            let progress = await load.progress()
            var sample = SafetySample(errorRate: progress.recentErrorRate, p99Us: progress.recentP99Us)
            if w.readsLostWrites || w.readsLag, let t = try? await environment.topology() {
                sample.lagBytes = Dictionary(uniqueKeysWithValues: t.members.compactMap { m in m.lagBytes.map { (m.name, $0) } })
                if w.readsLostWrites, let p = t.primary, "\(p.name)/\(p.timeline ?? 0)" != checkedPrimary,
                   let missing = try? await load.verifyWrites(await load.acknowledgedSoFar()) {
                    checkedPrimary = "\(p.name)/\(p.timeline ?? 0)"
                    lost = missing.count
                }
            }
            sample.lostWrites = lost
            if w.readsDiskFree, clock.now >= nextDisk {
                nextDisk = clock.now.advanced(by: .seconds(2))
                disk = try? await environment.diskFree()
            }
            sample.diskFree = disk
            if let t = w.observe(sample, atMs: origin.duration(to: clock.now).milliseconds) {
                control.trigger = t
                logger.error("abort condition held: \(t.reason)")
                stop.abort(t.reason)
                return
            }
        }
    }

    // MARK: - Actions

    private func perform(_ action: RunStateMachine.Action, _ scenario: Scenario, _ rec: inout Recorder,
                         phase: RunPhase, group: inout TaskGroup<LoadOutcome>) async -> RunStateMachine.Event {
        if phase != rec.lastPhase {
            rec.lastPhase = phase
            rec.phaseStart = clock.now
            rec.add(.phase, at: clock.now, detail: phase.rawValue)
            logger.info("phase \(phase.rawValue)")
            onProgress(RunProgress(phase: phase, elapsedMs: rec.ms(clock.now), topology: rec.lastTopology?.summary))
        }
        switch action {
        case .preflight(let shape):
            let checked = await preflight(shape, &rec)
            guard checked == .completed, let app = scenario.application else { return checked }
            return await prepare(app, &rec)
        case .startLoad(let workloads):
            let load = self.load
            group.addTask {
                do { return .finished(try await load.run(workloads)) } catch { return .failed(describe(error)) }
            }
            rec.loadStart = clock.now
            rec.loadRunning = true
            rec.add(.loadStarted, at: clock.now, detail: workloads.map(\.description).joined(separator: ", "))
            return .completed
        case .holdSteadyState(let d):
            switch await poll(until: clock.now.advanced(by: d), phase, &rec, check: nil) {
            case .cancelled: return .cancelled
            default: break
            }
            if phase == .steadyState, rec.steadyState == nil { await checkSteadyState(scenario, &rec) }
            return .completed
        case .observe(let d):
            switch await poll(until: clock.now.advanced(by: d), phase, &rec, check: nil) {
            case .cancelled: return .cancelled
            default: return .completed
            }
        case .inject(let step, let spec):
            return await inject(step, spec, scenario, &rec)
        case .operate(let step, let operation):
            return await operate(step, operation, &rec)
        case .await(let step, let condition, let within):
            let start = clock.now
            rec.lastAlerts = nil
            rec.lastRouting = nil
            let result = await poll(until: start.advanced(by: within), phase, &rec, check: condition)
            let seen = condition.readsAlerts ? rec.lastAlerts ?? "(no alerts read)"
                : condition.readsRouting ? (rec.lastRouting ?? "(routing not read)") + "; " + (rec.lastTopology?.summary ?? "(no topology)")
                : rec.lastTopology?.summary ?? "(no topology)"
            var r = ConditionResult(step: step, condition: condition, withinMs: within.milliseconds, startedAtMs: rec.ms(start),
                                    metAtMs: nil, lastSeen: seen)
            switch result {
            case .cancelled: return .cancelled
            case .met(let at):
                r.metAtMs = rec.ms(at)
                rec.add(.conditionMet, at: at, detail: condition.description)
                logger.info("\(condition) after \(DurationText.human(ms: r.elapsedMs ?? 0))")
            case .timedOut:
                rec.add(.conditionTimedOut, at: clock.now, detail: "\(condition) not within \(DurationText.format(within))")
                logger.warning("\(condition) not met within \(DurationText.format(within)); last seen \(r.lastSeen)")
            }
            rec.conditions.append(r)
            return .completed
        case .heal(let step):
            rec.add(.healStarted, at: clock.now, detail: step == nil ? "cleanup" : nil)
            // On the way out (failure, Ctrl-C) as in a Heal() step. Ctrl-C is a stop request, not a cancellation,
            // so the heal runs to its end; a task cancelled outright may cut it short (the ledger keeps the rest).
            let report = await healOnce()
            if let f = report.failure {
                rec.add(.healFailed, at: clock.now, detail: f)
                if stopping && step != nil { return .cancelled }
                guard let why = report.recoveryFailure else { return .failed("heal failed: \(f)") }
                // Every fault was undone and the cluster did not settle: what Patroni shows now goes in the verdict.
                let seen = try? await environment.topology()
                if let seen { rec.observe(seen, at: clock.now, logger) }
                rec.recoveryFailure = RecoveryFailure(step: step, message: why,
                                                      lastSeen: (seen ?? rec.lastTopology)?.summary ?? "(no topology)")
                return .clusterDidNotRecover(why)
            }
            rec.add(.healFinished, at: clock.now, detail: report.notes.isEmpty ? nil : report.notes.joined(separator: "; "))
            return .completed
        case .stopLoad:
            group.cancelAll()
            let outcome = await group.next()
            rec.loadRunning = false
            rec.loadStoppedAt = clock.now
            rec.add(.loadStopped, at: clock.now)
            switch outcome {
            case .finished(let obs): rec.load = obs; return .completed
            case .failed(let m): return .failed("load: \(m)")
            case nil: return .failed("load: no result")
            }
        case .verifyWrites:
            let ids = rec.load.acked.map(\.id)
            switch await verify(ids, clusterRecovered: rec.recoveryFailure == nil) {
            case .cancelled: return .cancelled
            case .done(let rb, let after):
                rec.readBack = rb
                rec.topologyAfter = after
                if rb.error == nil {
                    let on = rb.members == nil ? "" : " on every member that answered (\(rb.membersAnswered.map(\.member).joined(separator: ", ")))"
                    logger.info("read back \(ids.count) acknowledged writes\(on), \(rb.missing.count) missing")
                }
            }
            if rec.operations.contains(where: { $0.operation.slug == "restore" && $0.status == .succeeded }) {
                do { rec.presentAfter = try await load.ledgerCommits() } catch {
                    rec.restoreErrors.append("commit times after the restore not read: \(describe(error))")
                }
            }
            return .completed
        case .finish:
            return .completed
        }
    }

    enum ReadBackOutcome { case done(ReadBack, Topology?), cancelled }

    /// The read-back of acknowledged writes. On a recovered cluster: on the primary (`readBack`), and when no
    /// stable primary answered within `readBackPatience`, on every member (`readBackOnMembers`). On a cluster
    /// that did not recover: on every member straight away (the primary, if any, may be the one about to lose
    /// its writes), on the primary only when the environment or the load cannot read members directly.
    private func verify(_ ids: [String], clusterRecovered: Bool) async -> ReadBackOutcome {
        if !clusterRecovered {
            if let o = await readBackOnMembers(ids, because: "the cluster did not recover after the heal") { return o }
            return await readBack(ids)
        }
        let primary = await readBack(ids)
        guard case .done(let rb, _) = primary, let e = rb.error else { return primary }
        return await readBackOnMembers(ids, because: "no stable primary answered the read-back: \(e)") ?? primary
    }

    /// Reads the ids back on every member that answers (`Environment.memberReadEndpoints`, through
    /// `LoadDriver.verifyWrites(_:on:)`); an id is missing only when no member that answered has it. Each
    /// member's answer is recorded. While no member answers it is retried every second for up to
    /// `readBackPatience`. nil when the environment lists no member or the load cannot read one directly.
    private func readBackOnMembers(_ ids: [String], because: String) async -> ReadBackOutcome? {
        let endpoints = await environment.memberReadEndpoints().sorted { $0.key < $1.key }
        guard !endpoints.isEmpty else { return nil }
        let deadline = clock.now.advanced(by: readBackPatience)
        var attempts = 0
        while true {
            attempts += 1
            var answers: [MemberReadBack] = []
            var onNoMember: Set<String>?
            for (member, conninfo) in endpoints {
                do {
                    let missing = try await load.verifyWrites(ids, on: conninfo)
                    answers.append(MemberReadBack(member: member, missing: missing.count))
                    onNoMember = onNoMember.map { $0.intersection(missing) } ?? Set(missing)
                } catch is CancellationError {
                    return .cancelled
                } catch is MemberReadUnsupported {
                    return nil
                } catch {
                    answers.append(MemberReadBack(member: member, error: describe(error)))
                }
            }
            let after = try? await environment.topology()
            if let lost = onNoMember {
                return .done(ReadBack(checked: ids.count, missing: ids.filter { lost.contains($0) }, attempts: attempts,
                                      members: answers, membersBecause: because), after)
            }
            if clock.now >= deadline {
                let why = answers.map { "\($0.member): \($0.error ?? "no answer")" }.joined(separator: "; ")
                let error = "no member answered the read-back (\(why); \(attempts) attempt\(attempts == 1 ? "" : "s") over "
                    + "\(DurationText.human(ms: readBackPatience.milliseconds)))"
                return .done(ReadBack(checked: 0, missing: [], error: error, attempts: attempts, members: answers,
                                      membersBecause: because), after)
            }
            if cancelling { return .cancelled }
            logger.info("read-back on every member: attempt \(attempts), no member answered, retrying")
            do { try await clock.sleep(for: .seconds(1)) } catch { return .cancelled }
        }
    }

    /// Reads the acknowledged ids back from the primary. A read-back counts only when the same primary, on the
    /// same timeline (or no primary at all), was seen before and after it: a cluster still changing hands (an old primary taking the
    /// leader key back after the heal) would otherwise be read on the member that is about to lose its writes.
    /// Failed or unstable attempts are retried every second for up to `readBackPatience`.
    private func readBack(_ ids: [String]) async -> ReadBackOutcome {
        let deadline = clock.now.advanced(by: readBackPatience)
        var attempts = 0
        var last = "no attempt"
        while true {
            attempts += 1
            let before = try? await environment.topology()
            do {
                let missing = try await load.verifyWrites(ids)
                let after = try? await environment.topology()
                let (b, a) = (before?.primary, after?.primary)
                if b?.name == a?.name && b?.timeline == a?.timeline {
                    return .done(ReadBack(checked: ids.count, missing: missing, attempts: attempts), after)
                }
                last = "the primary changed during the read-back (\(before?.summary ?? "unknown") → \(after?.summary ?? "unknown"))"
            } catch is CancellationError {
                return .cancelled
            } catch {
                last = describe(error)
            }
            if clock.now >= deadline {
                let error = "\(last) (\(attempts) attempt\(attempts == 1 ? "" : "s") over \(DurationText.human(ms: readBackPatience.milliseconds)))"
                return .done(ReadBack(checked: 0, missing: [], error: error, attempts: attempts), try? await environment.topology())
            }
            if cancelling { return .cancelled }
            logger.info("read-back attempt \(attempts) not usable, retrying: \(last)")
            do { try await clock.sleep(for: .seconds(1)) } catch { return .cancelled }
        }
    }

    /// Measures the steady state against the scenario's hypothesis (the load has run exactly the steady state so far);
    /// when it does not hold, asks the run to abort before any fault goes in.
    private func checkSteadyState(_ scenario: Scenario, _ rec: inout Recorder) async {
        let p = await load.progress()
        var health: [String] = []
        do {
            let t = try await environment.topology()
            rec.observe(t, at: clock.now, logger)
            health = t.problems(against: scenario.expectedShape)
        } catch {
            health = ["topology unreadable: \(describe(error))"]
        }
        let result = SteadyStateResult(hypothesis: scenario.steadyStateHypothesis, ok: p.totalOk, errors: p.totalErrors,
                                       p99Us: p.p99Us, healthProblems: health)
        rec.steadyState = result
        if result.met {
            rec.add(.steadyStateChecked, at: clock.now, detail: "held: \(scenario.steadyStateHypothesis)")
            logger.info("steady state held: \(scenario.steadyStateHypothesis)")
        } else {
            let why = "steady state not met: " + result.violations.joined(separator: "; ")
            rec.add(.steadyStateChecked, at: clock.now, detail: why)
            rec.abortCause = .steadyState
            stop.abort(why)
        }
    }

    private func preflight(_ shape: ClusterShape, _ rec: inout Recorder) async -> RunStateMachine.Event {
        do {
            let leftovers = try await ledger.entries()
            if !leftovers.isEmpty {
                return .failed("the fault ledger holds \(leftovers.count) fault(s) from an earlier run; run `faultline heal` first")
            }
            let t = try await environment.topology()
            rec.topologyBefore = t
            rec.observe(t, at: clock.now, logger)
            let problems = t.problems(against: shape)
            if !problems.isEmpty {
                return .failed("cluster not healthy before the run: \(problems.joined(separator: "; ")) (\(t.summary))")
            }
            return .completed
        } catch is CancellationError {
            return .cancelled
        } catch {
            return .failed("preflight: \(describe(error))")
        }
    }

    /// Brings the demo application to the scenario's starting revision before the load starts (not judged).
    private func prepare(_ app: ApplicationSpec, _ rec: inout Recorder) async -> RunStateMachine.Event {
        let start = clock.now
        rec.add(.operationStarted, at: start, detail: "prepare \(app)")
        logger.notice("preparing \(app)")
        do {
            let outcome = try await unlessStopped { try await environment.prepareApplication(app) }
            rec.add(.operationFinished, at: clock.now, detail: outcome.detail.isEmpty ? "prepared \(app)" : outcome.detail)
            return .completed
        } catch let u as OperationUnsupported {
            rec.add(.operationUnsupported, at: clock.now, detail: u.reason)
            rec.unsupported.append(u.reason)
            return .unsupported(u.reason)
        } catch is CancellationError {
            return .cancelled
        } catch {
            return stopping ? .cancelled : .failed("preparing \(app): \(describe(error))")
        }
    }

    private func inject(_ step: Int, _ spec: FaultSpec, _ scenario: Scenario, _ rec: inout Recorder) async -> RunStateMachine.Event {
        let topology: Topology
        do {
            topology = try await environment.topology()
        } catch is CancellationError {
            return .cancelled
        } catch {
            return .failed("inject: cannot read the topology: \(describe(error))")
        }
        rec.observe(topology, at: clock.now, logger)
        let resolved: ResolvedFault
        do {
            resolved = try spec.resolve(in: topology)
        } catch {
            return .failed("inject \(spec): \(error)")
        }
        if let radius = await environment.blastRadius() {
            let problems = radius.problems(resolved.action, in: topology, allowed: allowedTargets)
            if !problems.isEmpty { return refuse(resolved.action, problems.joined(separator: "; "), &rec) }
        }
        let entry = FaultLedgerEntry(id: "\(runId)/\(step + 1)", runId: runId, scenario: scenario.name,
                                     action: resolved.action, reversal: resolved.reversal)
        do {
            try await ledger.record(entry)
        } catch {
            return .failed("fault ledger: cannot record the reversal, fault not injected: \(describe(error))")
        }
        if rec.firstInjection == nil {
            rec.firstInjection = clock.now
            rec.primaryAtInjection = topology.primary?.name
        }
        rec.add(.faultInjected, at: clock.now, member: resolved.action.members.first, detail: resolved.action.description)
        logger.notice("inject: \(resolved.action)")
        do {
            let environment = self.environment, action = resolved.action
            try await unlessStopped { try await environment.apply(action) }
        } catch is CancellationError {
            return .cancelled
        } catch let o as OutsideBlastRadius {
            return refuse(resolved.action, o.reason, &rec)
        } catch let u as FaultUnsupported {
            rec.add(.faultUnsupported, at: clock.now, member: resolved.action.members.first, detail: u.reason)
            rec.unsupported.append("\(resolved.action): \(u.reason)")
            return .unsupported(u.reason)
        } catch {
            rec.add(.faultFailed, at: clock.now, detail: describe(error))
            return .failed("applying \(resolved.action): \(describe(error))")
        }
        rec.add(.faultApplied, at: clock.now, member: resolved.action.members.first)
        return .completed
    }

    /// A fault beyond the blast radius: not applied; the run aborts (the ledger entry, if written, is healed as usual).
    private func refuse(_ action: FaultAction, _ why: String, _ rec: inout Recorder) -> RunStateMachine.Event {
        let reason = "refused to inject \(action): \(why)"
        rec.add(.faultRefused, at: clock.now, member: action.members.first, detail: why)
        logger.error("\(reason)")
        rec.abortCause = .blastRadius
        stop.abort(reason)
        return .completed
    }

    /// Runs `body` (a fault's apply, an operation), racing it against a stop request: a stop cancels a
    /// hanging `body` (it throws `CancellationError`), and nothing else.
    private func unlessStopped<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let stop = self.stop
        let result = await withTaskGroup(of: Result<T, any Error>?.self) { group in
            group.addTask {
                do { return .success(try await body()) } catch { return .failure(error) }
            }
            group.addTask { await stop.wait(); return nil }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        switch result {
        case .success(let v)?: return v
        case .failure(let e)?: throw e
        case nil: throw CancellationError()
        }
    }

    /// Records a mark, or hands the operation to the environment and journals its start, end and outcome.
    private func operate(_ step: Int, _ op: OperationSpec, _ rec: inout Recorder) async -> RunStateMachine.Event {
        let start = clock.now
        if case .mark(let name) = op {
            rec.add(.mark, at: start, detail: name)
            var r = OperationResult(step: step, operation: op, startedAtMs: rec.ms(start), endedAtMs: rec.ms(start), status: .succeeded)
            // The environment may note the server's time of it (a restore target); a mark never fails the run.
            let environment = self.environment
            r.outcome = try? await unlessStopped { try await environment.perform(op) }
            rec.operations.append(r)
            let at = r.outcome?.facts["server-time"].map { " (server time \($0))" } ?? ""
            logger.notice("mark '\(name)'\(at)")
            return .completed
        }
        if case .destroy = op, rec.disasterAt == nil {
            // The drill's reference: what the primary holds just before the disaster, by server commit time.
            rec.disasterAt = start
            do { rec.commitsBefore = try await load.ledgerCommits() } catch {
                rec.restoreErrors.append("commit times before the destroy not read: \(describe(error))")
            }
        }
        rec.add(.operationStarted, at: start, detail: op.description)
        logger.notice("operation: \(op)")
        var r = OperationResult(step: step, operation: op, startedAtMs: rec.ms(start), endedAtMs: nil, status: .succeeded)
        defer { rec.operations.append(r) }
        do {
            let environment = self.environment, load = self.load
            let outcome = try await unlessStopped {
                // A workload switch is the load's (a rolling deploy of the application), not the environment's.
                if case .switchWorkload(let v, let share) = op { return OperationOutcome(try await load.switchWorkload(version: v, share: share)) }
                return try await environment.perform(op)
            }
            let end = clock.now
            r.endedAtMs = rec.ms(end)
            r.outcome = outcome
            rec.add(.operationFinished, at: end, detail: outcome.detail.isEmpty ? op.description : "\(op): \(outcome.detail)")
            logger.notice("\(op) done after \(DurationText.human(ms: r.elapsedMs ?? 0))")
            return .completed
        } catch is CancellationError {
            r.status = .cancelled
            return .cancelled
        } catch let u as OperationUnsupported {
            r.endedAtMs = rec.ms(clock.now)
            r.status = .unsupported
            r.error = u.reason
            rec.add(.operationUnsupported, at: clock.now, detail: "\(op): \(u.reason)")
            rec.unsupported.append("\(op): \(u.reason)")
            return .unsupported(u.reason)
        } catch {
            let why = describe(error)
            r.endedAtMs = rec.ms(clock.now)
            r.status = .failed
            r.error = why
            rec.add(.operationFailed, at: clock.now, detail: "\(op): \(why)")
            return .stepFailed("\(op) failed: \(why)")
        }
    }

    /// Reverts this run's ledger entries newest first and heals fully (`LedgerHeal`, the one heal).
    private func healOnce() async -> LedgerHeal.Report {
        let logger = self.logger
        return await LedgerHeal.run(ledger: ledger, environment: environment, runId: runId) { logger.info("\($0)") }
    }

    enum PollResult {
        case met(C.Instant)
        case timedOut
        case cancelled
    }

    /// Polls the topology every `pollInterval` until `check` holds or `deadline`; records leader changes
    /// and reports progress on every poll. `check` nil: just watch until the deadline.
    private func poll(until deadline: C.Instant, _ phase: RunPhase, _ rec: inout Recorder, check: Condition?) async -> PollResult {
        while true {
            if stopping { return .cancelled }
            let at = clock.now
            if let check, check.readsAlerts {
                do {
                    let alerts = try await environment.activeAlerts()
                    rec.lastAlerts = Condition.alertsSeen(alerts, for: check)
                    if check.holds(alerts: alerts) { return .met(at) }
                } catch is CancellationError {
                    return .cancelled
                } catch {
                    rec.lastAlerts = "alerts unreadable: \(describe(error))"
                }
            }
            var routed: String?
            if let check, check.readsRouting {
                do {
                    routed = try await environment.routedPrimary()
                    rec.lastRouting = "read-write endpoint reaches " + (routed.map { "\($0) as primary" } ?? "no primary")
                } catch is CancellationError {
                    return .cancelled
                } catch {
                    rec.lastRouting = "routing unreadable: \(describe(error))"
                }
            }
            do {
                let t = try await environment.topology()
                rec.observe(t, at: at, logger)
                if let check, check.holds(in: t, rec.conditionContext) || check.holds(routed: routed, in: t, rec.conditionContext) {
                    return .met(at)
                }
            } catch is CancellationError {
                return .cancelled
            } catch {
                rec.topologyError(describe(error), at: at)
            }
            let progress = rec.loadRunning ? await load.progress() : nil
            if liveDetail, rec.liveAlertsAt.map({ $0.duration(to: clock.now) >= .seconds(1) }) ?? true {
                rec.liveAlertsAt = clock.now
                rec.liveAlerts = try? await environment.activeAlerts()
            }
            onProgress(RunProgress(phase: phase, elapsedMs: rec.ms(clock.now), load: progress, topology: rec.lastTopology?.summary,
                                   members: liveDetail ? rec.lastTopology : nil, alerts: liveDetail ? rec.liveAlerts : nil,
                                   phaseElapsedMs: rec.phaseStart.map { $0.duration(to: clock.now).milliseconds }))
            let now = clock.now
            if now >= deadline { return .timedOut }
            let next = now.advanced(by: pollInterval)
            do { try await clock.sleep(until: next < deadline ? next : deadline, tolerance: nil) } catch { return .cancelled }
        }
    }

    // MARK: - Recording

    /// Mutable recording state of one run; lives in the run's own task only.
    struct Recorder {
        let origin: C.Instant
        var events: [(C.Instant, TimelineEvent.Kind, String?, String?)] = []
        var loadStart: C.Instant?
        var loadStoppedAt: C.Instant?
        var loadRunning = false
        var load = LoadObservations()
        var conditions: [ConditionResult] = []
        var readBack: ReadBack?
        var topologyBefore: Topology?
        var topologyAfter: Topology?
        var lastTopology: Topology?
        var harnessErrors: [String] = []
        var cancelled = false
        var firstInjection: C.Instant?
        var primaryAtInjection: String?
        var primaryLostSinceInjection = false
        var leader: String?
        var sawMultiplePrimaries = false
        var lastTopologyError: String?
        var lastPhase: RunPhase?
        /// What the last alert read showed, for an alert condition's verdict.
        var lastAlerts: String?
        /// What the last routing read showed, for a routing condition's verdict.
        var lastRouting: String?
        var probes: ProbeReport?
        var unsupported: [String] = []
        var operations: [OperationResult] = []
        var recoveryFailure: RecoveryFailure?
        /// A drill: when the destroy began, the ledger's commit times just before it and after the restore.
        var disasterAt: C.Instant?
        var commitsBefore: [String: Double]?
        var presentAfter: [String: Double]?
        var restoreErrors: [String] = []
        var steadyState: SteadyStateResult?
        var safetyAbort: SafetyAbort?
        /// Set where the runner itself asks to abort (the steady state, a refused fault), for the record's cause.
        var abortCause: SafetyAbort.Cause?
        var phaseStart: C.Instant?
        var liveAlerts: [ActiveAlert]?
        var liveAlertsAt: C.Instant?

        init(origin: C.Instant) { self.origin = origin }

        /// ms since the run started (converted to ms since load start in `observations()`).
        func ms(_ i: C.Instant) -> Int { origin.duration(to: i).milliseconds }

        mutating func add(_ kind: TimelineEvent.Kind, at: C.Instant, member: String? = nil, detail: String? = nil) {
            events.append((at, kind, member, detail))
        }

        var conditionContext: ConditionContext {
            ConditionContext(primaryAtInjection: primaryAtInjection, primaryLostSinceInjection: primaryLostSinceInjection)
        }

        mutating func topologyError(_ message: String, at: C.Instant) {
            if message != lastTopologyError { add(.topologyUnavailable, at: at, detail: message) }
            lastTopologyError = message
        }

        /// Records leader changes: the old leader lost, a new single primary elected, split brain.
        mutating func observe(_ t: Topology, at: C.Instant, _ logger: Logger) {
            lastTopology = t
            lastTopologyError = nil
            if t.primaryCount > 1, !sawMultiplePrimaries {
                add(.multiplePrimaries, at: at, detail: t.summary)
                logger.critical("more than one primary: \(t.summary)")
            }
            sawMultiplePrimaries = t.primaryCount > 1
            let now = t.primary?.name
            guard now != leader else { return }
            if let old = leader {
                add(.leaderLost, at: at, member: old, detail: t.summary)
                logger.notice("leader \(old) lost: \(t.summary)")
            }
            if firstInjection != nil, leader == primaryAtInjection || now == nil { primaryLostSinceInjection = true }
            if let new = now {
                add(.leaderElected, at: at, member: new, detail: t.primary?.timeline.map { "timeline \($0)" })
                logger.notice("leader \(new) elected: \(t.summary)")
            }
            leader = now
        }

        /// A drill's read-back, once a destroy ran and a restore succeeded: T from the mark the restore went to
        /// (its server time, when the environment gave one), the commit times before and after.
        func restoreCheck(_ o: Observations, shift: Int) -> RestoreCheck? {
            guard let disasterAt,
                  let restore = o.operations?.first(where: { $0.operation.slug == "restore" && $0.status == .succeeded }) else { return nil }
            let target = restore.operation.restoreTarget
            let mark = target.flatMap { t in o.operations?.first { $0.operation == .mark(t) } }
            var errors = restoreErrors
            if presentAfter == nil, errors.isEmpty { errors.append("commit times after the restore not read (no read-back ran)") }
            return RestoreCheck(target: target, targetEpochMs: mark?.outcome?.facts["server-time-epoch-ms"].flatMap(Double.init),
                                targetISO: mark?.outcome?.facts["server-time"], targetLoadMs: mark?.startedAtMs,
                                disasterLoadMs: disasterLoadMs(o, fallback: ms(disasterAt) - shift), loadOriginEpochMs: load.originEpochMs,
                                commitsBefore: commitsBefore, presentAfter: presentAfter ?? [:], resolutionMs: 1,
                                restoreStep: restore.step, error: errors.isEmpty ? nil : errors.joined(separator: "; "))
        }

        /// The disaster's instant in the load's frame: the destroy's own `disaster-epoch-ms` fact (when the environment
        /// actually began destroying, after its pre-check), else `fallback` (the destroy step's start).
        func disasterLoadMs(_ o: Observations, fallback: Int) -> Int {
            guard let destroy = o.operations?.first(where: { $0.operation == .destroy }),
                  let epoch = destroy.outcome?.facts["disaster-epoch-ms"].flatMap(Double.init), let origin = load.originEpochMs else { return fallback }
            return Int((epoch - origin).rounded())
        }

        /// The observations, with every time converted to ms since the load started.
        func observations() -> Observations {
            let shift = loadStart.map { ms($0) } ?? 0
            let evs = events.enumerated()
                .map { (i, e) in (i, TimelineEvent(atMs: ms(e.0) - shift, kind: e.1, member: e.2, detail: e.3)) }
                .sorted { ($0.1.atMs, $0.0) < ($1.1.atMs, $1.0) }
                .map(\.1)
            let conds = conditions.map { c -> ConditionResult in
                var c = c
                c.startedAtMs -= shift
                c.metAtMs = c.metAtMs.map { $0 - shift }
                return c
            }
            var o = Observations(events: evs, load: load, conditions: conds, readBack: readBack,
                                 primaryAtInjection: primaryAtInjection, topologyBefore: topologyBefore,
                                 topologyAfter: topologyAfter, harnessErrors: harnessErrors, cancelled: cancelled,
                                 loadStoppedAtMs: loadStoppedAt.map { ms($0) - shift })
            // The environment's probe times are ms since the first fault; the fault went in at firstInjection.
            o.probes = probes.map { $0.shifted(by: (firstInjection.map { ms($0) } ?? shift) - shift) }
            o.unsupported = unsupported.isEmpty ? nil : unsupported
            o.recoveryFailure = recoveryFailure
            o.operations = operations.isEmpty ? nil : operations.map { r -> OperationResult in
                var r = r
                r.startedAtMs -= shift
                r.endedAtMs = r.endedAtMs.map { $0 - shift }
                return r
            }
            o.restore = restoreCheck(o, shift: shift)
            o.steadyState = steadyState
            o.safetyAbort = safetyAbort.map { var a = $0; a.atMs -= shift; return a }
            return o
        }
    }
}


/// Shared between the run loop and the abort watcher: whether the steps are running (the watcher samples only then),
/// and which condition held.
final class WatchControl: Sendable {
    private struct State { var armed = false; var trigger: AbortTrigger? }
    private let state = Mutex(State())

    var armed: Bool {
        get { state.withLock { $0.armed } }
        set { state.withLock { $0.armed = newValue } }
    }

    var trigger: AbortTrigger? {
        get { state.withLock { $0.trigger } }
        set { state.withLock { $0.trigger = newValue } }
    }
}
