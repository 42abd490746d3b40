/// A label to select scenarios by (`failover`, `nightly`, ...).
public struct Tag: RawRepresentable, Codable, Sendable, Hashable, Comparable, ExpressibleByStringLiteral, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }
    public static func < (a: Tag, b: Tag) -> Bool { a.rawValue < b.rawValue }

    public static let failover: Tag = "failover"
    public static let planned: Tag = "planned"
    public static let nightly: Tag = "nightly"
    public static let smoke: Tag = "smoke"
}

/// One step after the steady state, executed in order.
public enum Step: Codable, Sendable, Equatable {
    /// Resolve the spec, record its reversal in the fault ledger, apply it.
    case inject(FaultSpec)
    /// Poll the topology until the condition holds or `within` passes (a miss fails a verdict, the run goes on).
    case await(Condition, within: Duration)
    /// Keep the fault in effect this long, watching the topology (the load runs; direct probes sample).
    case hold(Duration)
    /// Undo every fault of this run (reversals newest first), then a full heal.
    case heal
    /// Like `await`; `within` nil means the scenario's settle target.
    case expect(Condition, within: Duration?)
    /// Performs an operation (backup, mark, restore, ...): no fault, no reversal. `within` bounds how long it may
    /// take (its own verdict); nil: no duration verdict, but a failure still fails one. A failed operation skips the
    /// remaining steps; the run heals and stops the load.
    case operation(OperationSpec, within: Duration?)
}

/// What the run's split-brain check expects of the direct write probes.
public enum SplitBrainExpectation: String, Codable, Sendable, Equatable {
    /// Never two members acknowledging direct writes in one probe round (every scenario but a few).
    case forbidden
    /// The fault provokes a split brain on purpose (operator error): the probes must see two members
    /// acknowledging writes while the fault is in effect, and never after the heal finished.
    case provoked
}

/// A scenario: a plain Sendable value, usually built with the DSL (see docs/scenarios.md).
public struct Scenario: Codable, Sendable, Equatable, Identifiable {
    public var name: String
    public var summary: String
    public var tags: [Tag]
    public var targets: Targets
    public var workloads: [Workload]
    /// How long the load runs on a healthy cluster before the first step.
    public var steadyState: Duration
    public var steps: [Step]
    /// `.provoked` (DSL: `ExpectSplitBrain()`) inverts the split-brain check for this scenario only.
    public var splitBrain: SplitBrainExpectation = .forbidden
    /// The demo application a migration scenario starts from, prepared before the load (`Environment.prepareApplication`);
    /// nil: none.
    public var application: ApplicationSpec?
    /// The steady-state hypothesis and the abort conditions (`SteadyState(for:errorRate:p99:)`, `Abort(when:)`, `--abort`);
    /// nil: the standard hypothesis and no abort condition.
    public var safety: SafetyLimits?
    /// Where the write workloads connect (`WritesThrough(.pooler)`, `--set writes-via=pooler`); nil: the read-write endpoint.
    public var writesVia: WriteRoute?

    public var id: String { name }

    public init(name: String, summary: String = "", tags: [Tag] = [], targets: Targets = Targets(),
                workloads: [Workload] = [], steadyState: Duration = .seconds(10), steps: [Step] = [],
                splitBrain: SplitBrainExpectation = .forbidden) {
        self.name = name
        self.summary = summary
        self.tags = tags
        self.targets = targets
        self.workloads = workloads
        self.steadyState = steadyState
        self.steps = steps
        self.splitBrain = splitBrain
    }

    /// The timeout a step really gets (an `expect` without one gets the settle target).
    public func effectiveWithin(_ step: Step) -> Duration? {
        switch step {
        case .await(_, let within): within
        case .expect(_, let within): within ?? targets.settle
        case .operation(_, let within): within
        case .inject, .heal, .hold: nil
        }
    }

    /// The shape the cluster must have before the run starts: the first `clusterHealthy` condition's, else 3 members, 1 sync.
    public var expectedShape: ClusterShape {
        for step in steps {
            switch step {
            case .await(.clusterHealthy(let m, let s), _), .expect(.clusterHealthy(let m, let s), _):
                return ClusterShape(members: m, sync: s)
            default: continue
            }
        }
        return ClusterShape(members: 3, sync: 1)
    }

    public var hasWrites: Bool { workloads.contains { $0.isWrite } }

    /// What is wrong with this scenario as written; empty when it can run.
    public func problems() -> [String] {
        var out: [String] = []
        if name.isEmpty || name.contains(where: { $0.isWhitespace || $0 == "/" }) {
            out.append("name '\(name)' must be non-empty, without spaces or '/'")
        }
        if workloads.isEmpty { out.append("no load: add Load(...)") }
        if let a = application { out += a.problems }
        if Set(workloads.map(\.name)).count != workloads.count { out.append("a workload appears twice") }
        if workloads.contains(where: { $0.rate <= 0 }) { out.append("workload rates must be positive") }
        // A scenario of operations alone (a backup and restore drill) is fine; one with neither tests nothing.
        if !steps.contains(where: { if case .inject = $0 { true } else if case .operation = $0 { true } else { false } }) {
            out.append("no Inject(...)")
        }
        var started = false  // an Inject or an operation came before
        var marks: Set<String> = []
        var background: String?  // the revision of a started, unfinished background migration
        for step in steps {
            switch step {
            case .inject: started = true
            case .await(_, let w), .expect(_, .some(let w)):
                if !started { out.append("\(step) comes before any Inject or operation") }
                if w <= .zero { out.append("a timeout must be positive") }
            case .hold(let d):
                if !started { out.append("\(step) comes before any Inject or operation") }
                if d <= .zero { out.append("a hold must be positive") }
            case .heal, .expect: if !started { out.append("\(step) comes before any Inject or operation") }
            case .operation(let op, let w):
                started = true
                out += Self.problems(of: op, within: w, marksSoFar: &marks)
                out += Self.backgroundProblems(of: op, running: &background)
            }
        }
        if let rev = background { out.append("StartMigration(to: \"\(rev)\") is never finished: add FinishMigration() after it") }
        if (targets.rto.map { $0 <= .zero } ?? false) || targets.settle <= .zero || targets.sustain <= .zero {
            out.append("rto, settle and sustain must be positive")
        }
        if targets.lostWrites < 0 { out.append("lostWrites must be 0 or more") }
        if targets.observeAfterHeal < .zero { out.append("observeAfterHeal must be 0 or more") }
        if let b = targets.writesBackAfterHeal, b <= .zero { out.append("writesBackAfterHeal must be positive") }
        if let h = safety?.steadyState {
            if let e = h.errorRate, !(0...1).contains(e) { out.append("a steady-state error rate must lie between 0 and 1") }
            if let p = h.p99, p <= .zero { out.append("a steady-state p99 must be positive") }
        }
        if case .continued(let d) = targets.writesDuringFault, d <= .zero { out.append("a writes-during-fault stall bound must be positive") }
        return out
    }
}

extension Scenario {
    /// What is wrong with one operation step; records a mark's name in `marks`.
    /// A restore may only name a mark written before it: the instant must exist when the restore runs.
    static func problems(of op: OperationSpec, within: Duration?, marksSoFar marks: inout Set<String>) -> [String] {
        var out: [String] = []
        if let w = within, w <= .zero { out.append("a timeout must be positive") }
        switch op {
        case .mark(let name):
            if name.isEmpty || name.contains(where: \.isWhitespace) { out.append("mark name '\(name)' must be non-empty, without spaces") }
            if !marks.insert(name).inserted { out.append("Mark(\"\(name)\") appears twice") }
            if within != nil { out.append("a Mark takes no time: it cannot have a within bound") }
        case .restore(.some(let target), _):
            if !marks.contains(target) { out.append("restore to '\(target)': no Mark(\"\(target)\") before it") }
        case .migrate(let rev), .startMigration(let rev):
            if rev.isEmpty { out.append("a migration needs a revision") }
        case .switchWorkload(let v, let share):
            if v.isEmpty { out.append("a workload switch needs a version") }
            if let s = share, !(s > 0 && s <= 1) { out.append("a workload switch's share must be in (0, 1]") }
        case .destroyRepository(let r):
            if r.isEmpty { out.append("destroying a repository needs its name") }
        case .backup, .destroy, .restore, .removeArchivedWAL, .finishMigration: break
        }
        return out
    }

    /// What is wrong with one operation step as to the background migration; `running` holds the revision of a
    /// started, unfinished one. One runs at a time (a `Migrate` meanwhile would race it), and a finish needs a start.
    static func backgroundProblems(of op: OperationSpec, running: inout String?) -> [String] {
        switch op {
        case .startMigration(let rev):
            let previous = running
            running = rev
            if let r = previous { return ["StartMigration(to: \"\(rev)\") while the migration to \(r) still runs: add FinishMigration() before it"] }
        case .migrate(let rev):
            if let r = running { return ["Migrate(to: \"\(rev)\") while the migration to \(r) still runs: add FinishMigration() before it"] }
        case .finishMigration:
            if running == nil { return ["FinishMigration() has no unfinished StartMigration(to:) before it"] }
            running = nil
        case .mark, .backup, .destroy, .destroyRepository, .removeArchivedWAL, .restore, .switchWorkload: break
        }
        return []
    }
}
