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
        if Set(workloads.map(\.name)).count != workloads.count { out.append("a workload appears twice") }
        if workloads.contains(where: { $0.rate <= 0 }) { out.append("workload rates must be positive") }
        if !steps.contains(where: { if case .inject = $0 { true } else { false } }) { out.append("no Inject(...)") }
        var injected = false
        for step in steps {
            switch step {
            case .inject: injected = true
            case .await(_, let w), .expect(_, .some(let w)):
                if !injected { out.append("\(step) comes before any Inject") }
                if w <= .zero { out.append("a timeout must be positive") }
            case .hold(let d):
                if !injected { out.append("\(step) comes before any Inject") }
                if d <= .zero { out.append("a hold must be positive") }
            case .heal, .expect: if !injected { out.append("\(step) comes before any Inject") }
            }
        }
        if (targets.rto.map { $0 <= .zero } ?? false) || targets.settle <= .zero || targets.sustain <= .zero {
            out.append("rto, settle and sustain must be positive")
        }
        if targets.lostWrites < 0 { out.append("lostWrites must be 0 or more") }
        if targets.observeAfterHeal < .zero { out.append("observeAfterHeal must be 0 or more") }
        if let b = targets.writesBackAfterHeal, b <= .zero { out.append("writesBackAfterHeal must be positive") }
        if case .continued(let d) = targets.writesDuringFault, d <= .zero { out.append("a writes-during-fault stall bound must be positive") }
        return out
    }
}
