/// A game day's plan and its default hypotheses, from the scenario alone. Pure: nothing is resolved or touched.
public enum GameDay {
    /// One short line per scenario step, for the live view's step list ("inject: kill-node(primary)").
    public static func stepLabels(_ s: Scenario) -> [String] {
        s.steps.indices.map { stepLabel(s, $0) }
    }

    /// The step `index` of `s` in a few words.
    public static func stepLabel(_ s: Scenario, _ index: Int) -> String {
        switch s.steps[index] {
        case .inject(let f): "inject: \(f)"
        case .await(let c, let w): "\(s.conditionLabel(at: index) ?? "await"): \(c) within \(DurationText.format(w))"
        case .expect(let c, let w): "\(s.conditionLabel(at: index) ?? "expect"): \(c) within \(DurationText.format(w ?? s.targets.settle))"
        case .hold(let d): "hold \(DurationText.format(d))"
        case .heal: "heal: undo the faults, full heal"
        case .operation(.mark(let n), _): "mark '\(n)'"
        case .operation(let op, let w): "operate: \(op)" + (w.map { " within \(DurationText.format($0))" } ?? "")
        }
    }

    /// The verdict id `Assertions.conditions` gives the condition step at `index` ("await-new-primary", a repeated one
    /// with "-<step>"); nil for other steps. Kept in step with it (a unit test compares both).
    public static func conditionVerdictIds(_ s: Scenario) -> [Int: String] {
        var out: [Int: String] = [:]
        var seen: Set<String> = []
        for (index, step) in s.steps.enumerated() {
            guard let prefix = s.conditionLabel(at: index) else { continue }
            let c: Condition
            switch step {
            case .await(let x, _), .expect(let x, _): c = x
            default: continue
            }
            let base = "\(prefix)-\(c.slug)"
            let id = seen.contains(base) ? "\(base)-\(index + 1)" : base
            seen.insert(id)
            out[index] = id
        }
        return out
    }

    /// One hypothesis per target the run judges, each linked to the verdict that will judge it: the steady state, the
    /// RTO, lost writes, the cluster's recovery after the heal, each Await/Expect, the error budgets and the p99s.
    public static func defaultHypotheses(_ s: Scenario) -> [Hypothesis] {
        var out: [Hypothesis] = []
        let t = s.targets
        let faults = !s.injectedFaults.isEmpty
        out.append(Hypothesis("the steady state holds before the fault (\(s.steadyStateHypothesis))", verdict: "steady-state"))
        if s.hasWrites, faults, let rto = t.rto {
            out.append(Hypothesis("writes come back within \(DurationText.format(rto)) of the injection (RTO)", verdict: "rto"))
        }
        if s.hasWrites {
            out.append(Hypothesis(t.lostWrites == 0 ? "no acknowledged write is lost"
                                  : "at most \(t.lostWrites) acknowledged writes are lost", verdict: "lost-writes"))
        }
        if faults || s.steps.contains(.heal) {
            out.append(Hypothesis("the cluster recovers after the heal", verdict: "cluster-recovered"))
        }
        let ids = conditionVerdictIds(s)
        for i in s.steps.indices {
            guard let id = ids[i] else { continue }
            let within: Duration
            let c: Condition
            switch s.steps[i] {
            case .await(let x, let w): c = x; within = w
            case .expect(let x, let w): c = x; within = w ?? t.settle
            default: continue
            }
            out.append(Hypothesis("\(c) within \(DurationText.format(within)) of \(s.countsFrom(step: i))", verdict: id))
        }
        if let b = t.errorBudgetDuring { out.append(Hypothesis("errors during the fault stay within \(percent(b))", verdict: "error-budget-during")) }
        if let b = t.errorBudgetAfter { out.append(Hypothesis("errors after the heal stay within \(percent(b))", verdict: "error-budget-after")) }
        if let p = t.p99During { out.append(Hypothesis("p99 during the fault stays within \(DurationText.format(p))", verdict: "p99-during")) }
        if let p = t.p99After { out.append(Hypothesis("p99 after the heal stays within \(DurationText.format(p))", verdict: "p99-after")) }
        return out
    }
}
