/// One line of a scenario body. Each DSL component (`Targets`, `Load`, `SteadyState`, `Inject`, `Await`,
/// `Heal`, `Expect`, and the operations `Mark`, `Backup`, `Destroy`, `Restore`, `Migrate`, `StartMigration`,
/// `FinishMigration`, `SwitchWorkload`, `Operate`) turns into elements.
public enum ScenarioElement: Sendable, Equatable {
    case targets(Targets)
    case workloads([Workload])
    case steadyState(Duration)
    case step(Step)
    case splitBrain(SplitBrainExpectation)
    case application(ApplicationSpec)
    case hypothesis(SteadyStateHypothesis)
    case abort(AbortCondition)
    case writesVia(WriteRoute)
}

/// Anything that may appear in a scenario body.
public protocol ScenarioComponent: Sendable {
    var elements: [ScenarioElement] { get }
}

/// Builds a scenario body from components, with `if`, `if/else` and `for` allowed.
@resultBuilder
public enum ScenarioBuilder {
    public static func buildExpression(_ component: some ScenarioComponent) -> [ScenarioElement] { component.elements }
    public static func buildBlock(_ parts: [ScenarioElement]...) -> [ScenarioElement] { parts.flatMap { $0 } }
    public static func buildOptional(_ part: [ScenarioElement]?) -> [ScenarioElement] { part ?? [] }
    public static func buildEither(first: [ScenarioElement]) -> [ScenarioElement] { first }
    public static func buildEither(second: [ScenarioElement]) -> [ScenarioElement] { second }
    public static func buildArray(_ parts: [[ScenarioElement]]) -> [ScenarioElement] { parts.flatMap { $0 } }
}

extension Scenario {
    /// Builds a scenario with the DSL. A later `Targets` replaces an earlier one; `Load`s add up;
    /// steps keep their written order.
    public init(_ name: String, summary: String = "", tags: [Tag] = [], @ScenarioBuilder _ body: () -> [ScenarioElement]) {
        self.init(name: name, summary: summary, tags: tags)
        for element in body() {
            switch element {
            case .targets(let t): targets = t
            case .workloads(let w): workloads += w
            case .steadyState(let d): steadyState = d
            case .step(let s): steps.append(s)
            case .splitBrain(let e): splitBrain = e
            case .application(let a): application = a
            case .hypothesis(let h):
                var limits = safety ?? SafetyLimits()
                limits.steadyState = h
                safety = limits
            case .writesVia(let r): writesVia = r == .direct ? nil : r
            case .abort(let c):
                var limits = safety ?? SafetyLimits()
                if !limits.abort.contains(c) { limits.abort.append(c) }
                safety = limits
            }
        }
    }
}

extension Targets: ScenarioComponent {
    public var elements: [ScenarioElement] { [.targets(self)] }
}

/// The load that runs throughout: `Load(.ledgerWrites(rate: 200), .replicaReads(rate: 200))`.
public struct Load: ScenarioComponent {
    public var workloads: [Workload]
    public init(_ workloads: Workload...) { self.workloads = workloads }
    public var elements: [ScenarioElement] { [.workloads(workloads)] }
}

/// Where the write workloads connect: `WritesThrough(.pooler)` sends them (and the service probe beside them) through
/// the environment's connection pooler instead of the read-write endpoint.
public struct WritesThrough: ScenarioComponent {
    public var route: WriteRoute
    public init(_ route: WriteRoute) { self.route = route }
    public var elements: [ScenarioElement] { [.writesVia(route)] }
}

/// How long the load runs on the healthy cluster before the first fault, and, optionally, the steady-state hypothesis
/// checked at its end: `SteadyState(for: .seconds(10), errorRate: 0.01, p99: .milliseconds(250))`. When it does not
/// hold, no fault is injected and the run ends `aborted: steady state not met`. Without one, the run checks
/// `SteadyStateHypothesis.standard`.
public struct SteadyState: ScenarioComponent {
    public var duration: Duration
    public var hypothesis: SteadyStateHypothesis?
    public init(for duration: Duration) { self.duration = duration }
    public init(for duration: Duration, errorRate: Double? = nil, p99: Duration? = nil, healthy: Bool = true) {
        self.duration = duration
        self.hypothesis = SteadyStateHypothesis(errorRate: errorRate, p99: p99, healthy: healthy)
    }
    public var elements: [ScenarioElement] { [.steadyState(duration)] + (hypothesis.map { [.hypothesis($0)] } ?? []) }
}

/// Stops the experiment at once when the condition holds: the runner heals, stops the load, reads the writes back,
/// and the run ends `aborted` (exit 7). `Abort(when: .errorRate(above: 0.5, for: .seconds(60)))`,
/// `Abort(when: .lostWrites(above: 0))`, `Abort(when: .diskFree(below: 0.05))`.
public struct Abort: ScenarioComponent {
    public var condition: AbortCondition
    public init(when condition: AbortCondition) { self.condition = condition }
    public var elements: [ScenarioElement] { [.abort(condition)] }
}

/// Injects a fault: `Inject(.killNode(.primary))`.
public struct Inject: ScenarioComponent {
    public var fault: FaultSpec
    public init(_ fault: FaultSpec) { self.fault = fault }
    public var elements: [ScenarioElement] { [.step(.inject(fault))] }
}

/// Waits for a condition: `Await(.newPrimary, within: .seconds(30))`.
public struct Await: ScenarioComponent {
    public var condition: Condition
    public var within: Duration
    public init(_ condition: Condition, within: Duration) {
        self.condition = condition
        self.within = within
    }
    public var elements: [ScenarioElement] { [.step(.await(condition, within: within))] }
}

/// Keeps the fault in effect for a while, watching: `Hold(for: .seconds(20))`. With no fault in effect (a drill's
/// steps), it only keeps the load running that long.
public struct Hold: ScenarioComponent {
    public var duration: Duration
    public init(for duration: Duration) { self.duration = duration }
    public var elements: [ScenarioElement] { [.step(.hold(duration))] }
}

/// Undoes every fault of the run. The runner also heals on failure and cancellation, `Heal()` or not.
public struct Heal: ScenarioComponent {
    public init() {}
    public var elements: [ScenarioElement] { [.step(.heal)] }
}

/// Expects a condition, by default within the settle target: `Expect(.clusterHealthy(members: 3, sync: 1))`.
public struct Expect: ScenarioComponent {
    public var condition: Condition
    public var within: Duration?
    public init(_ condition: Condition, within: Duration? = nil) {
        self.condition = condition
        self.within = within
    }
    public var elements: [ScenarioElement] { [.step(.expect(condition, within: within))] }
}

/// The fault provokes a split brain on purpose: the run passes its split-brain check only if the direct
/// probes saw two members acknowledging writes during the fault, and none after the heal. Without it,
/// two members accepting writes fails the run.
public struct ExpectSplitBrain: ScenarioComponent {
    public init() {}
    public var elements: [ScenarioElement] { [.splitBrain(.provoked)] }
}

// MARK: - Operations: steps that are not faults and have no reversal

/// Any operation, with an optional bound on how long it may take: `Operate(.migrate(revision: "42"), within: .seconds(60))`.
/// The named components below read better; they all build `Step.operation`.
public struct Operate: ScenarioComponent {
    public var operation: OperationSpec
    public var within: Duration?
    public init(_ operation: OperationSpec, within: Duration? = nil) {
        self.operation = operation
        self.within = within
    }
    public var elements: [ScenarioElement] { [.step(.operation(operation, within: within))] }
}

/// Names this instant, for a later `Restore(to:)` or check: `Mark("target")`. Recorded by the runner; takes no time.
public struct Mark: ScenarioComponent {
    public var name: String
    public init(_ name: String) { self.name = name }
    public var elements: [ScenarioElement] { [.step(.operation(.mark(name), within: nil))] }
}

/// Takes a backup: `Backup(.full, within: .minutes(10))` (`repo` nil: the environment's default).
public struct Backup: ScenarioComponent {
    public var type: BackupType
    public var repo: String?
    public var within: Duration?
    public init(_ type: BackupType = .full, repo: String? = nil, within: Duration? = nil) {
        self.type = type
        self.repo = repo
        self.within = within
    }
    public var elements: [ScenarioElement] { [.step(.operation(.backup(type, repo: repo), within: within))] }
}

/// Destroys the cluster: `Destroy()`.
public struct Destroy: ScenarioComponent {
    public var within: Duration?
    public init(within: Duration? = nil) { self.within = within }
    public var elements: [ScenarioElement] { [.step(.operation(.destroy, within: within))] }
}

/// Destroys one backup repository with everything in it (region loss): `DestroyRepository("1")`.
public struct DestroyRepository: ScenarioComponent {
    public var repo: String
    public var within: Duration?
    public init(_ repo: String, within: Duration? = nil) {
        self.repo = repo
        self.within = within
    }
    public var elements: [ScenarioElement] { [.step(.operation(.destroyRepository(repo), within: within))] }
}

/// Removes one archived WAL segment after the newest backup: the archive-gap control. `RemoveArchivedWAL()`.
public struct RemoveArchivedWAL: ScenarioComponent {
    public var repo: String?
    public init(repo: String? = nil) { self.repo = repo }
    public var elements: [ScenarioElement] { [.step(.operation(.removeArchivedWAL(repo: repo), within: nil))] }
}

/// Restores from the archive to a mark, or to its end: `Restore(to: "target", within: .minutes(30))`.
public struct Restore: ScenarioComponent {
    public var target: String?
    public var repo: String?
    public var within: Duration?
    public init(to target: String? = nil, repo: String? = nil, within: Duration? = nil) {
        self.target = target
        self.repo = repo
        self.within = within
    }
    public var elements: [ScenarioElement] { [.step(.operation(.restore(to: target, repo: repo), within: within))] }
}

/// Runs the schema migration to a revision: `Migrate(to: "0042", within: .seconds(60))`.
public struct Migrate: ScenarioComponent {
    public var revision: String
    public var within: Duration?
    public init(to revision: String, within: Duration? = nil) {
        self.revision = revision
        self.within = within
    }
    public var elements: [ScenarioElement] { [.step(.operation(.migrate(revision: revision), within: within))] }
}

/// Starts the schema migration to a revision in the background and goes on at once: `StartMigration(to: "0006")`.
/// The steps after it (a failover) run while it does; a later `FinishMigration` waits for it.
public struct StartMigration: ScenarioComponent {
    public var revision: String
    public var within: Duration?
    public init(to revision: String, within: Duration? = nil) {
        self.revision = revision
        self.within = within
    }
    public var elements: [ScenarioElement] { [.step(.operation(.startMigration(revision: revision), within: within))] }
}

/// Waits for the background migration started by `StartMigration` to finish: `FinishMigration(within: .minutes(5))`.
public struct FinishMigration: ScenarioComponent {
    public var within: Duration?
    public init(within: Duration? = nil) { self.within = within }
    public var elements: [ScenarioElement] { [.step(.operation(.finishMigration, within: within))] }
}

/// Switches the application workload to a version, for a share of the clients (nil: all):
/// `SwitchWorkload(to: "v2", share: 0.1)`.
public struct SwitchWorkload: ScenarioComponent {
    public var version: String
    public var share: Double?
    public var within: Duration?
    public init(to version: String, share: Double? = nil, within: Duration? = nil) {
        self.version = version
        self.share = share
        self.within = within
    }
    public var elements: [ScenarioElement] { [.step(.operation(.switchWorkload(version: version, share: share), within: within))] }
}

extension Duration {
    /// `.minutes(30)`: operations are measured in minutes more often than faults.
    public static func minutes(_ m: Int) -> Duration { .seconds(m * 60) }
}
