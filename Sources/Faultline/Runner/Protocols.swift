/// The cluster under test, as the runner sees it. Implemented by the environment drivers
/// (FaultlineEnvironments) and adapted in the CLI; a fake in tests. Every method may be called
/// while the cluster is failing over, so each should answer (or throw) within a few seconds.
public protocol Environment: Sendable {
    /// Who is who right now. Called about every 200 ms during waits; throwing is fine while the cluster is in flux
    /// (the runner records it and polls again). A member that cannot be reached is reported as `.down`.
    func topology() async throws -> Topology

    /// Makes the fault take effect (SIGKILL, switchover, ...). The runner has already written the reversal
    /// to the fault ledger. Throws `FaultUnsupported` when this machine cannot do it at all (the run's
    /// verdicts are then skipped, never passed). For a switchover, return once the request is accepted; the runner watches the rest.
    func apply(_ action: FaultAction) async throws

    /// Undoes one fault (start the killed node again, ...). Must be idempotent: it may run after a crash,
    /// for a fault that never took effect.
    func revert(_ reversal: Reversal) async throws

    /// Full heal: every member running, under Patroni, replicating. Idempotent. Called after `revert`s
    /// on every exit path, also when the run was cancelled. Throw `ClusterDidNotRecover` when the heal did
    /// all it does (every process restarted) and the cluster still did not settle: that judges the system
    /// (a failed verdict), where any other error is the harness's (exit 3).
    func heal() async throws

    /// Each member's direct read endpoint (libpq conninfo, no password), by member name, for reading
    /// acknowledged writes back on every member when there is no stable primary to read them on
    /// (`LoadDriver.verifyWrites(_:on:)`). Empty (the default): this environment cannot.
    func memberReadEndpoints() async -> [String: String]

    /// What the environment's own probes saw since the first fault was applied (times: ms since that
    /// `apply` began); stops the probes. Called once, at the end of a run. nil: no probes.
    func probeReport() async -> ProbeReport?

    /// The commands run so far, one line each, for `commands.log` (the report writer masks secrets again).
    func commandLog() async -> [String]

    /// The alerts firing (or pending) right now, for `Condition.alertFiring`/`.alertResolved`. Polled
    /// about every 200 ms while such a condition is awaited; throw when the alerting cannot be read.
    func activeAlerts() async throws -> [ActiveAlert]

    /// Performs an operation step (backup, destroy, restore, migrate; a workload switch is the load driver's) and returns once it is done.
    /// A `.mark` is recorded by the runner first and then offered here, so that an environment can note the server's
    /// time of it (fact `server-time-epoch-ms`, ms since the Unix epoch, and `server-time`, ISO) for a restore to it;
    /// a mark must never fail the run (errors are ignored). Throw `OperationUnsupported` when this environment
    /// cannot do it at all (the default): the run's verdicts are then skipped. Any other error fails the
    /// operation's verdict and skips the remaining steps; the run heals and stops the load.
    func perform(_ operation: OperationSpec) async throws -> OperationOutcome

    /// Brings the demo application to `app` before the load starts (a migration scenario's `Application(at:)`).
    func prepareApplication(_ app: ApplicationSpec) async throws -> OperationOutcome

    /// What faults may touch here: the members this environment created, its subnet, whether Faultline brought it up.
    /// The runner checks every resolved fault against it before recording or applying it. nil (the default): this
    /// environment declares no bounds, and only a driver's own `OutsideBlastRadius` stops a fault.
    func blastRadius() async -> BlastRadius?

    /// The member the read-write endpoint reaches now, when it runs as a primary there (a write would commit on it); nil
    /// when it reaches no primary. For `Condition.newPrimaryRouted`, polled about every 200 ms while awaited. Throws
    /// `ReadingUnsupported` (the default) when this environment cannot tell.
    func routedPrimary() async throws -> String?

    /// Each member's free share of its data volume (0.05 = 5 % free), for `AbortCondition.diskFree`. Throws
    /// `ReadingUnsupported` (the default) when this environment cannot tell.
    func diskFree() async throws -> [String: Double]
}

/// Thrown when an environment or load driver cannot read a value a safety limit watches.
public struct ReadingUnsupported: Error, Sendable, Equatable, CustomStringConvertible {
    public var what: String
    public init(_ what: String) { self.what = what }
    public var description: String { "this environment cannot read \(what)" }
}

extension Environment {
    public func blastRadius() async -> BlastRadius? { nil }
    public func diskFree() async throws -> [String: Double] { throw ReadingUnsupported("the data volumes' free space") }
    public func routedPrimary() async throws -> String? { throw ReadingUnsupported("which member the read-write endpoint reaches") }
}

extension Environment {
    /// Brings the demo application's database to `app` (revision, seeded rows) before the load starts, for a
    /// migration scenario. Throw `OperationUnsupported` (the default) when this environment cannot: the run's
    /// verdicts are then skipped. Any other error is the harness's (exit 3): the run stops before the load.
    public func prepareApplication(_ app: ApplicationSpec) async throws -> OperationOutcome {
        throw OperationUnsupported("this environment cannot prepare the demo application (migrations are not implemented here)")
    }

    /// Every operation is unsupported, but a mark, which needs nothing of the environment (the runner has recorded it).
    public func perform(_ operation: OperationSpec) async throws -> OperationOutcome {
        if case .mark = operation { return OperationOutcome() }
        throw OperationUnsupported("this environment cannot \(operation.slug) (operations are not implemented here)")
    }
}

extension Environment {
    /// An environment without alerting lists none: `alertFiring` never holds there.
    public func activeAlerts() async throws -> [ActiveAlert] { [] }
}

extension Environment {
    public func commandLog() async -> [String] { [] }
    public func probeReport() async -> ProbeReport? { nil }
    public func memberReadEndpoints() async -> [String: String] { [:] }
}

/// Thrown by `Environment.heal()` when every process was restarted and the cluster still did not settle
/// (no leader, a member not running PostgreSQL, writes refused): the system under test failed to recover.
/// The runner then fails the `cluster-recovered` verdict with `reason` and still reads the writes back.
public struct ClusterDidNotRecover: Error, Sendable, Equatable, CustomStringConvertible {
    /// What the cluster manager reports, e.g. "PostgreSQL not running on n1 after the heal". No secrets.
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// Thrown by `LoadDriver.verifyWrites(_:on:)` when the driver cannot read one member directly.
public struct MemberReadUnsupported: Error, Sendable, Equatable, CustomStringConvertible {
    public init() {}
    public var description: String { "this load driver cannot read a member directly" }
}

/// A cheap snapshot of the running load, for live progress.
public struct LoadProgress: Sendable, Equatable {
    /// Acknowledged requests per second over the last second or so.
    public var okPerSecond: Double
    /// Failed requests per second over the last second or so.
    public var errorsPerSecond: Double
    public var totalOk: Int
    public var totalErrors: Int
    /// The p99 of every acknowledged request since the load started, microseconds (the steady-state check reads it at
    /// the end of the steady state, when the load has run for exactly that long).
    public var p99Us: Int?
    /// The p99 of acknowledged requests over the last second or so, microseconds (abort conditions, the live view).
    public var recentP99Us: Int?
    /// Every error since the load started, by outcome (the game-day view's errors by class).
    public var errorsByOutcome: [Outcome: Int]

    public init(okPerSecond: Double = 0, errorsPerSecond: Double = 0, totalOk: Int = 0, totalErrors: Int = 0,
                p99Us: Int? = nil, recentP99Us: Int? = nil, errorsByOutcome: [Outcome: Int] = [:]) {
        self.okPerSecond = okPerSecond
        self.errorsPerSecond = errorsPerSecond
        self.totalOk = totalOk
        self.totalErrors = totalErrors
        self.p99Us = p99Us
        self.recentP99Us = recentP99Us
        self.errorsByOutcome = errorsByOutcome
    }

    /// The error ratio over the last second or so; nil when nothing completed in it.
    public var recentErrorRate: Double? {
        let all = okPerSecond + errorsPerSecond
        return all > 0 ? errorsPerSecond / all : nil
    }
}

/// The load generator, as the runner sees it (FaultlineLoad's `LoadGenerator`, adapted in the CLI).
public protocol LoadDriver: Sendable {
    /// Runs the workloads until the calling task is cancelled, then stops and RETURNS what it observed
    /// (it must not throw `CancellationError`: cancellation is how the runner says "load off").
    /// Throws only when the load cannot run at all. Window offsets are ms since this call started.
    func run(_ workloads: [Workload]) async throws -> LoadObservations

    /// Live numbers while `run` is going; zeros before and after.
    func progress() async -> LoadProgress

    /// After recovery: looks `ids` up on the current primary and returns the ones that are missing.
    func verifyWrites(_ ids: [String]) async throws -> [String]

    /// Looks `ids` up on one member, through `conninfo` (from `Environment.memberReadEndpoints`; a replica
    /// answers too) and returns the ones missing there. Throws `MemberReadUnsupported` (the default) when
    /// this driver cannot; any other error means that member did not answer.
    func verifyWrites(_ ids: [String], on conninfo: String) async throws -> [String]

    /// This run's ledger rows on the current primary, id → server commit time in ms since the Unix epoch
    /// (`pg_xact_commit_timestamp`; needs `track_commit_timestamp = on`). For disaster-recovery drills: read
    /// just before the destroy and again after the restore. Throws `MemberReadUnsupported` (the default) when
    /// this driver cannot.
    func ledgerCommits() async throws -> [String: Double]

    /// A rolling deploy's step (`OperationSpec.switchWorkload`, which the runner sends here, not to the environment):
    /// the first `share` of the running orders workload's clients (at least one; nil: all) switch to application
    /// `version`, the others keep theirs. Returns one line for the timeline ("2 of 4 orders clients on v2, 2 on v1").
    /// Throws `OperationUnsupported` (the default) when this driver cannot; any other error (an unknown version,
    /// no orders workload running) fails the operation.
    func switchWorkload(version: String, share: Double?) async throws -> String

    /// The ids of every write acknowledged so far in the running load (for `AbortCondition.lostWrites`, read back
    /// with `verifyWrites(_:)` after a change of primary); empty (the default) when none or when this driver cannot tell.
    func acknowledgedSoFar() async -> [String]
}

extension LoadDriver {
    public func verifyWrites(_ ids: [String], on conninfo: String) async throws -> [String] { throw MemberReadUnsupported() }
    public func ledgerCommits() async throws -> [String: Double] { throw MemberReadUnsupported() }
    public func switchWorkload(version: String, share: Double?) async throws -> String {
        throw OperationUnsupported("this load driver cannot switch the workload's version")
    }
    public func acknowledgedSoFar() async -> [String] { [] }
}

/// The persisted fault ledger: every fault that may be in effect, with its reversal. Written before
/// a fault takes effect, cleared after a successful heal, read by `faultline heal` after a crash.
/// `JSONFileFaultLedger` (FaultlineReports) keeps it in a file.
public protocol FaultLedgerStore: Sendable {
    /// Persists the entry (durably: it must survive the process being killed right after).
    func record(_ entry: FaultLedgerEntry) async throws
    /// Removes an entry once its fault is undone; removing an unknown id is not an error.
    func remove(id: String) async throws
    /// Every entry still recorded, oldest first.
    func entries() async throws -> [FaultLedgerEntry]
}

/// What the runner reports while it runs (the CLI renders it on the terminal).
public struct RunProgress: Sendable, Equatable {
    public var phase: RunPhase
    /// Since the run started (preflight included).
    public var elapsedMs: Int
    /// nil before the load starts and after it stops.
    public var load: LoadProgress?
    /// The last topology seen, as `Topology.summary`.
    public var topology: String?
    /// The last topology seen, whole (roles, timelines, lag), when the runner was asked for live detail.
    public var members: Topology?
    /// The alerts firing or pending, read about once a second when the runner was asked for live detail.
    public var alerts: [ActiveAlert]?
    /// The step running (index into `Scenario.steps`); nil before the first and after the last.
    public var step: Int?
    /// Since the current phase began, ms.
    public var phaseElapsedMs: Int?

    public init(phase: RunPhase, elapsedMs: Int, load: LoadProgress? = nil, topology: String? = nil, members: Topology? = nil,
                alerts: [ActiveAlert]? = nil, step: Int? = nil, phaseElapsedMs: Int? = nil) {
        self.phase = phase
        self.elapsedMs = elapsedMs
        self.load = load
        self.topology = topology
        self.members = members
        self.alerts = alerts
        self.step = step
        self.phaseElapsedMs = phaseElapsedMs
    }
}

/// A short, secret-free description of an error for reports and logs (passwords and tokens masked).
public func describe(_ error: any Error) -> String {
    if let e = error as? CustomStringConvertible { return SecretMasker.mask(e.description) }
    return String(describing: type(of: error))
}
