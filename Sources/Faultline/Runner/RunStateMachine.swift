/// Where a run is.
public enum RunPhase: String, Codable, Sendable {
    case preflight
    case steadyState = "steady-state"
    case inject
    /// An operation step (backup, mark, restore, ...).
    case operate
    case await
    case heal
    case settle
    /// Healing on the way out: after a failure, a cancellation, or when the scenario had no `Heal()` step.
    case cleanup
    /// The load keeps running on the healed cluster for `Targets.observeAfterHeal` (after-heal budgets).
    case observe
    case loadOff = "load-off"
    case verify
    case done
}

/// The control flow of one run, as a value: it says what to do next; the async `Runner` does it and
/// reports back. It guarantees that once a fault may have been injected a heal follows on every path,
/// and that once the load started it is stopped. Operations owe no heal (no reversal), unless one did not
/// complete: a failed or interrupted operation may leave the cluster half-changed, so the run heals.
/// A heal that undid every fault but left the cluster unsettled is no abort: the load is stopped and the
/// writes are read back, so the run is judged (failed), not errored.
public struct RunStateMachine: Sendable, Equatable {
    public enum Action: Sendable, Equatable {
        /// Check the cluster has the shape and the fault ledger is empty.
        case preflight(ClusterShape)
        case startLoad([Workload])
        case holdSteadyState(Duration)
        case inject(step: Int, FaultSpec)
        /// Perform (or, for a mark, record) an operation step.
        case operate(step: Int, OperationSpec)
        /// Wait for a condition (phase `.await` or `.settle`).
        case await(step: Int, Condition, within: Duration)
        /// Undo the run's faults and heal; `step` nil for the cleanup heal.
        case heal(step: Int?)
        /// Keep the load running on the healed cluster (watching the topology) for this long.
        case observe(Duration)
        case stopLoad
        case verifyWrites
        case finish
    }

    public enum Event: Sendable, Equatable {
        /// The action completed (a condition that timed out still completed: it fails a verdict, not the run).
        case completed
        /// The action failed; the run cannot go on. The message is for the report.
        case failed(String)
        /// The task was cancelled (Ctrl-C).
        case cancelled
        /// The environment cannot inject the fault on this machine: heal, stop, verdicts skipped (not an error).
        case unsupported(String)
        /// The step ran and failed in a way that judges the system, not the harness (an operation threw): its
        /// verdict fails, the remaining steps are skipped, the run heals, stops the load and reads writes back.
        case stepFailed(String)
        /// A heal undid every fault, yet the cluster did not settle (`ClusterDidNotRecover`): the system's failure,
        /// not the harness's. The remaining steps are skipped; the run stops the load and reads writes back.
        case clusterDidNotRecover(String)
        /// A safety limit stopped the run (an abort condition held, the steady state was not met, a fault was refused
        /// beyond the blast radius, a game-day facilitator aborted): the remaining steps are skipped, the run heals at
        /// once, stops the load and still reads the writes back; it ends `aborted` with the reason.
        case aborted(String)
    }

    public enum Abort: Sendable, Equatable {
        case failed(String)
        case cancelled
        case unsupported(String)
    }

    public let scenario: Scenario
    public private(set) var phase: RunPhase = .preflight
    public private(set) var loadRunning = false
    /// A fault may be in effect: a heal is owed.
    public private(set) var healOwed = false
    public private(set) var abort: Abort?
    /// Why the remaining steps were skipped after a step failed (`Event.stepFailed`); nil when none was.
    public private(set) var stepFailure: String?
    /// What the environment reported when a heal undid every fault and the cluster did not settle
    /// (`Event.clusterDidNotRecover`); nil when every heal succeeded or failed as the harness's fault.
    public private(set) var recoveryFailure: String?
    /// Why a safety limit aborted the run (`Event.aborted`); nil when none did.
    public private(set) var safetyAbort: String?
    /// The index of the last step begun; nil before the first.
    public private(set) var lastStepStarted: Int?
    private var nextStep = 0
    private var healedSinceInject = false
    private var observed = false
    private var injected = false
    private var current: Action?

    public init(scenario: Scenario) { self.scenario = scenario }

    public mutating func start() -> Action {
        emit(.preflight(scenario.expectedShape), .preflight)
    }

    public mutating func handle(_ event: Event) -> Action {
        guard let action = current else { return start() }
        if case .aborted(let why) = event { return aborted(why, during: action) }
        switch action {
        case .preflight:
            guard event == .completed else { record(event); return emit(.finish, .done) }
            return emit(.startLoad(scenario.workloads), .steadyState)
        case .startLoad:
            if event == .completed { loadRunning = true } else { return abortPath(event) }
            return scenario.steadyState > .zero ? emit(.holdSteadyState(scenario.steadyState), .steadyState) : nextAction()
        case .holdSteadyState, .inject, .await:
            return event == .completed ? nextAction() : abortPath(event)
        case .operate:
            switch event {
            case .completed: return nextAction()
            case .unsupported: return abortPath(event)  // nothing was done: no heal owed for it
            case .stepFailed(let m):
                stepFailure = m
                healOwed = true
                nextStep = scenario.steps.count
                return nextAction()
            case .failed, .cancelled, .clusterDidNotRecover, .aborted:
                healOwed = true
                return abortPath(event)
            }
        case .heal(let step):
            switch event {
            case .completed:
                healOwed = false
                healedSinceInject = true
                return step != nil ? nextAction() : observeOrWrapUp()
            case .cancelled where step == nil:
                record(event)
                healOwed = false
                return wrapUp()
            case .failed where step == nil:
                record(event)
                healOwed = false  // tried once on the way out; the ledger keeps the rest for `faultline heal`
                return wrapUp()
            case .clusterDidNotRecover(let m):
                // Every fault was undone and the heal waited its full time: a second heal would wait again for
                // nothing. Skip the rest, no observation window; stop the load and read back (unless aborted).
                if recoveryFailure == nil { recoveryFailure = m }
                healOwed = false  // the ledger keeps the entries for `faultline heal`
                nextStep = scenario.steps.count
                return wrapUp()
            case .failed, .cancelled, .unsupported, .stepFailed, .aborted:
                return abortPath(event)
            }
        case .observe:
            return event == .completed ? wrapUp() : abortPath(event)
        case .stopLoad:
            loadRunning = false
            if event != .completed { record(event) }
            return abort == nil && scenario.hasWrites ? emit(.verifyWrites, .verify) : emit(.finish, .done)
        case .verifyWrites:
            if event == .cancelled { record(event) }
            return emit(.finish, .done)
        case .finish:
            return action
        }
    }

    private mutating func nextAction() -> Action {
        guard nextStep < scenario.steps.count else {
            return healOwed ? emit(.heal(step: nil), .cleanup) : observeOrWrapUp()
        }
        let i = nextStep
        nextStep += 1
        lastStepStarted = i
        let waiting: RunPhase = scenario.stepStages[i] == .settle ? .settle : .await
        switch scenario.steps[i] {
        case .hold(let d):
            return emit(.holdSteadyState(d), waiting)
        case .inject(let f):
            healOwed = true
            injected = true
            healedSinceInject = false
            return emit(.inject(step: i, f), .inject)
        case .await(let c, let w):
            return emit(.await(step: i, c, within: w), waiting)
        case .expect(let c, _):
            return emit(.await(step: i, c, within: scenario.effectiveWithin(scenario.steps[i]) ?? scenario.targets.settle), waiting)
        case .heal:
            return emit(.heal(step: i), .heal)
        case .operation(let op, _):
            return emit(.operate(step: i, op), .operate)
        }
    }

    /// A safety abort: no further step; heal now if a fault may be in effect (an interrupted operation included),
    /// then stop the load and read the writes back, as after a failed step.
    private mutating func aborted(_ why: String, during action: Action) -> Action {
        if safetyAbort == nil { safetyAbort = why }
        nextStep = scenario.steps.count
        switch action {
        case .preflight: return emit(.finish, .done)
        case .startLoad: loadRunning = true
        case .operate: healOwed = true
        case .heal(nil):
            healOwed = false  // it ran to its end (the stop does not reach a heal); the ledger keeps what it did not undo
            return wrapUp()
        case .stopLoad:
            loadRunning = false
            return abort == nil && scenario.hasWrites ? emit(.verifyWrites, .verify) : emit(.finish, .done)
        case .verifyWrites, .finish: return emit(.finish, .done)
        case .holdSteadyState, .inject, .await, .heal, .observe: break
        }
        return healOwed ? emit(.heal(step: nil), .cleanup) : wrapUp()
    }

    private mutating func abortPath(_ event: Event) -> Action {
        record(event)
        return healOwed ? emit(.heal(step: nil), .cleanup) : wrapUp()
    }

    /// After the last step of a run that went to plan and healed: the observation window, once, if any.
    private mutating func observeOrWrapUp() -> Action {
        let window = scenario.targets.observeAfterHeal
        if abort == nil, stepFailure == nil, safetyAbort == nil, loadRunning, injected, healedSinceInject, !observed, window > .zero {
            observed = true
            return emit(.observe(window), .observe)
        }
        return wrapUp()
    }

    private mutating func wrapUp() -> Action {
        if loadRunning { return emit(.stopLoad, .loadOff) }
        return emit(.finish, .done)
    }

    private mutating func record(_ event: Event) {
        guard abort == nil else { return }
        switch event {
        case .completed: break
        case .failed(let m): abort = .failed(m)
        case .cancelled: abort = .cancelled
        case .unsupported(let m): abort = .unsupported(m)
        case .stepFailed: break  // not an abort: the run goes on to heal and verify
        case .clusterDidNotRecover(let m): if recoveryFailure == nil { recoveryFailure = m }
        case .aborted(let m): if safetyAbort == nil { safetyAbort = m }
        }
    }

    private mutating func emit(_ action: Action, _ phase: RunPhase) -> Action {
        current = action
        self.phase = phase
        return action
    }
}
