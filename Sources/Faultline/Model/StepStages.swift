/// Where a step stands in the experiment: the one rule for "settle" against "await"/"expect", used by the
/// state machine (its phase), the plan (`--dry-run`) and the verdicts (their ids and titles).
public enum StepStage: String, Sendable, Equatable {
    /// After an `Inject` (or before any): a fault may be in effect.
    case fault
    /// After a `Heal()` and before the next `Inject`: the cluster should be settling.
    case settle
}

extension Scenario {
    /// One stage per step: a `Heal()` starts the settle stage, an `Inject` ends it.
    public var stepStages: [StepStage] {
        var healed = false
        return steps.map { step in
            switch step {
            case .heal: healed = true
            case .inject: healed = false
            default: break
            }
            return healed ? .settle : .fault
        }
    }

    /// The label of a condition step: "settle" after a heal, else "await" or "expect"; nil for other steps.
    public func conditionLabel(at index: Int) -> String? {
        switch steps[index] {
        case .await: stepStages[index] == .settle ? "settle" : "await"
        case .expect: stepStages[index] == .settle ? "settle" : "expect"
        default: nil
        }
    }

    /// The instant a step's own clock starts from, in words: a condition's `within` counts from the end of the
    /// step before it ("the injection", "the heal", ...), not from the fault.
    public func countsFrom(step index: Int) -> String {
        guard index > 0 else { return "the steady state's end" }
        switch steps[index - 1] {
        case .inject: return "the injection"
        case .heal: return "the heal's end"
        case .hold: return "the hold's end"
        case .await, .expect: return "the previous check"
        case .operation(.mark(let name), _): return "the mark '\(name)'"
        case .operation(let op, _): return "the end of \(op.slug)"
        }
    }
}
