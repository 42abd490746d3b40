/// One thing that happened during a run. Times are ms since the load started (preflight is negative).
public struct TimelineEvent: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        case phase
        case loadStarted = "load-started"
        case loadStopped = "load-stopped"
        /// The instant the fault was handed to the environment (RTO starts here).
        case faultInjected = "fault-injected"
        /// The environment returned from applying the fault.
        case faultApplied = "fault-applied"
        case faultFailed = "fault-failed"
        /// The environment cannot inject the fault on this machine (no netem, ...): verdicts are skipped.
        case faultUnsupported = "fault-unsupported"
        /// The leader seen before is no longer the single primary.
        case leaderLost = "leader-lost"
        /// A single primary is seen where there was none or another.
        case leaderElected = "leader-elected"
        case multiplePrimaries = "multiple-primaries"
        case topologyUnavailable = "topology-unavailable"
        case conditionMet = "condition-met"
        case conditionTimedOut = "condition-timed-out"
        case healStarted = "heal-started"
        case healFinished = "heal-finished"
        case healFailed = "heal-failed"
        case harnessError = "harness-error"
        case cancelled
        /// A `Mark("name")`: the named instant (detail: the name).
        case mark
        /// An operation was handed to the environment (detail: the operation).
        case operationStarted = "operation-started"
        /// The environment returned from the operation (detail: the operation and its outcome).
        case operationFinished = "operation-finished"
        /// The operation threw (detail: the operation and the error): its verdict fails, the remaining steps are skipped.
        case operationFailed = "operation-failed"
        /// The environment cannot perform the operation here: verdicts are skipped.
        case operationUnsupported = "operation-unsupported"
        /// The steady-state hypothesis was checked (detail: held, or what broke it).
        case steadyStateChecked = "steady-state-checked"
        /// A safety limit stopped the run (detail: the reason); the heal follows at once.
        case aborted
        /// A fault was refused: it would reach beyond the environment's blast radius (detail: why).
        case faultRefused = "fault-refused"
        /// A note typed during the run (game day); detail: the text.
        case note
        /// An observation marked during the run (game day); detail: the text.
        case observation
    }

    public var atMs: Int
    public var kind: Kind
    public var member: String?
    public var detail: String?

    public init(atMs: Int, kind: Kind, member: String? = nil, detail: String? = nil) {
        self.atMs = atMs
        self.kind = kind
        self.member = member
        self.detail = detail
    }
}

/// How one `Await` or `Expect` step went.
public struct ConditionResult: Codable, Sendable, Equatable {
    /// Index of the step in `Scenario.steps`.
    public var step: Int
    public var condition: Condition
    public var withinMs: Int
    public var startedAtMs: Int
    /// When the condition was first seen to hold; nil when it timed out.
    public var metAtMs: Int?
    /// The last topology seen, as `Topology.summary`.
    public var lastSeen: String

    public init(step: Int, condition: Condition, withinMs: Int, startedAtMs: Int, metAtMs: Int?, lastSeen: String) {
        self.step = step
        self.condition = condition
        self.withinMs = withinMs
        self.startedAtMs = startedAtMs
        self.metAtMs = metAtMs
        self.lastSeen = lastSeen
    }

    public var elapsedMs: Int? { metAtMs.map { $0 - startedAtMs } }
}

/// How one operation step went (a `Mark` included: it starts and ends at its instant).
public struct OperationResult: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable {
        case succeeded
        /// The environment threw: the operation's verdict fails.
        case failed
        /// The environment cannot perform it here: every verdict is skipped.
        case unsupported
        /// Ctrl-C arrived while it ran.
        case cancelled
    }

    /// Index of the step in `Scenario.steps`.
    public var step: Int
    public var operation: OperationSpec
    public var startedAtMs: Int
    /// When the environment returned or threw; nil when cancelled.
    public var endedAtMs: Int?
    public var status: Status
    /// What the environment reported; nil unless it succeeded.
    public var outcome: OperationOutcome?
    /// Why it failed or is unsupported.
    public var error: String?

    public init(step: Int, operation: OperationSpec, startedAtMs: Int, endedAtMs: Int?, status: Status,
                outcome: OperationOutcome? = nil, error: String? = nil) {
        self.step = step
        self.operation = operation
        self.startedAtMs = startedAtMs
        self.endedAtMs = endedAtMs
        self.status = status
        self.outcome = outcome
        self.error = error
    }

    public var elapsedMs: Int? { endedAtMs.map { $0 - startedAtMs } }
}

/// The read-back of acknowledged writes after recovery.
public struct ReadBack: Codable, Sendable, Equatable {
    /// How many acknowledged ids were looked up.
    public var checked: Int
    /// Ids that were not found.
    public var missing: [String]
    /// Set when the read-back itself failed; `missing` is then meaningless.
    public var error: String?
    /// Attempts it took (1 unless the cluster refused the read or changed hands during it).
    public var attempts: Int?
    /// Set when the ids were read on every member rather than on the primary: each member's answer, by
    /// name. `missing` then holds only the ids found on no member that answered. nil: read on the primary.
    public var members: [MemberReadBack]?
    /// Why the read-back went to every member (the cluster did not recover, no stable primary answered).
    public var membersBecause: String?

    public init(checked: Int, missing: [String], error: String? = nil, attempts: Int? = nil,
                members: [MemberReadBack]? = nil, membersBecause: String? = nil) {
        self.checked = checked
        self.missing = missing
        self.error = error
        self.attempts = attempts
        self.members = members
        self.membersBecause = membersBecause
    }

    /// The members that answered the every-member read-back.
    public var membersAnswered: [MemberReadBack] { (members ?? []).filter { $0.error == nil } }
}

/// One member's answer to the every-member read-back.
public struct MemberReadBack: Codable, Sendable, Equatable {
    public var member: String
    /// How many of the ids this member does not have; nil when it did not answer.
    public var missing: Int?
    /// Why it did not answer; nil when it did.
    public var error: String?

    public init(member: String, missing: Int? = nil, error: String? = nil) {
        self.member = member
        self.missing = missing
        self.error = error
    }
}

/// A heal undid every fault and the cluster still did not settle: what the environment reported.
public struct RecoveryFailure: Codable, Sendable, Equatable {
    /// Index of the `Heal()` step in `Scenario.steps`; nil for the cleanup heal. The steps after it were skipped.
    public var step: Int?
    /// The heal's error, as the environment gave it (Patroni's view: no leader, PostgreSQL not running on n1, ...).
    public var message: String
    /// The topology read right after the heal gave up, as `Topology.summary`.
    public var lastSeen: String

    public init(step: Int?, message: String, lastSeen: String) {
        self.step = step
        self.message = message
        self.lastSeen = lastSeen
    }
}

/// Everything one run recorded: the runner's timeline, the load's observations, the read-back.
public struct Observations: Codable, Sendable, Equatable {
    public var events: [TimelineEvent]
    public var load: LoadObservations
    public var conditions: [ConditionResult]
    /// nil when no read-back was attempted (no writes, or the run was aborted). After a recovery failure it
    /// was made on every member that answered (`ReadBack.members`).
    public var readBack: ReadBack?
    /// The single primary when the first fault was injected.
    public var primaryAtInjection: String?
    public var topologyBefore: Topology?
    public var topologyAfter: Topology?
    /// Harness or environment failures; any one makes the run an error (exit 3).
    public var harnessErrors: [String]
    public var cancelled: Bool
    /// When the load stopped, ms since it started.
    public var loadStoppedAtMs: Int?
    /// The environment's direct probes during the faults (split brain, lag), if it made any.
    public var probes: ProbeReport?
    /// Faults the environment could not inject on this machine, with why; every verdict is then skipped.
    public var unsupported: [String]?
    /// Every operation step that ran (marks included), in order; nil when there was none.
    public var operations: [OperationResult]?
    /// Set when a heal undid every fault and the cluster did not settle: a failed verdict, not a harness error.
    public var recoveryFailure: RecoveryFailure?
    /// A disaster-recovery drill's read-back (a destroy and a restore ran); nil otherwise.
    public var restore: RestoreCheck?
    /// What the steady state showed against the hypothesis; nil when it was not checked (no steady state, or the run
    /// stopped before its end).
    public var steadyState: SteadyStateResult?
    /// Set when a safety limit aborted the run.
    public var safetyAbort: SafetyAbort?

    public init(events: [TimelineEvent] = [], load: LoadObservations = LoadObservations(), conditions: [ConditionResult] = [],
                readBack: ReadBack? = nil, primaryAtInjection: String? = nil, topologyBefore: Topology? = nil,
                topologyAfter: Topology? = nil, harnessErrors: [String] = [], cancelled: Bool = false, loadStoppedAtMs: Int? = nil) {
        self.events = events
        self.load = load
        self.conditions = conditions
        self.readBack = readBack
        self.primaryAtInjection = primaryAtInjection
        self.topologyBefore = topologyBefore
        self.topologyAfter = topologyAfter
        self.harnessErrors = harnessErrors
        self.cancelled = cancelled
        self.loadStoppedAtMs = loadStoppedAtMs
    }

    public func first(_ kind: TimelineEvent.Kind, atOrAfter ms: Int = .min) -> TimelineEvent? {
        events.first { $0.kind == kind && $0.atMs >= ms }
    }

    /// When the first fault was injected.
    public var injectedAtMs: Int? { first(.faultInjected)?.atMs }
    /// When `Mark(name)` was recorded, ms since load start; nil when no such mark ran.
    public func mark(_ name: String) -> Int? {
        operations?.first { $0.operation == .mark(name) }?.startedAtMs
    }

    /// When the last heal finished.
    public var healFinishedAtMs: Int? { events.last { $0.kind == .healFinished }?.atMs }

    /// The end of what was observed: the load stop, else the last window's end, else the last event.
    public var endMs: Int {
        if let s = loadStoppedAtMs { return s }
        let w = load.windows.map { $0.startMs + $0.lengthMs }.max()
        return w ?? events.map(\.atMs).max() ?? 0
    }
}


/// The steady state, measured against the hypothesis at its end.
public struct SteadyStateResult: Codable, Sendable, Equatable {
    public var hypothesis: SteadyStateHypothesis
    public var ok: Int
    public var errors: Int
    /// The p99 of acknowledged requests over the steady state, microseconds.
    public var p99Us: Int?
    /// Why the cluster was not healthy at its end; empty when it was.
    public var healthProblems: [String]
    /// What broke the hypothesis; empty when it held.
    public var violations: [String]

    public init(hypothesis: SteadyStateHypothesis, ok: Int, errors: Int, p99Us: Int?, healthProblems: [String]) {
        self.hypothesis = hypothesis
        self.ok = ok
        self.errors = errors
        self.p99Us = p99Us
        self.healthProblems = healthProblems
        self.violations = hypothesis.violations(errors: errors, total: ok + errors, p99Us: p99Us, healthProblems: healthProblems)
    }

    public var met: Bool { violations.isEmpty }
    public var errorRate: Double? { ok + errors == 0 ? nil : Double(errors) / Double(ok + errors) }
}

/// Why and when a safety limit stopped the run.
public struct SafetyAbort: Codable, Sendable, Equatable {
    public enum Cause: String, Codable, Sendable {
        /// The steady-state hypothesis did not hold: no fault was injected.
        case steadyState = "steady-state"
        /// An abort condition held.
        case condition
        /// A fault would have reached beyond the blast radius: it was refused.
        case blastRadius = "blast-radius"
        /// Someone asked (a game-day facilitator's `a`).
        case requested
    }

    public var cause: Cause
    /// ms since the load started.
    public var atMs: Int
    /// One line: "error rate above 50 % for 60 s: 93 % at +64.2 s".
    public var reason: String
    /// The condition that held, for `.condition`.
    public var condition: AbortCondition?
    /// Whether any fault had been injected when it stopped.
    public var afterInjection: Bool

    public init(cause: Cause, atMs: Int, reason: String, condition: AbortCondition? = nil, afterInjection: Bool) {
        self.cause = cause
        self.atMs = atMs
        self.reason = reason
        self.condition = condition
        self.afterInjection = afterInjection
    }
}
