/// The safety limits' verdicts: the steady-state hypothesis (`steady-state`) and the abort conditions (`abort`), and
/// what an aborted run still judges.
enum SafetyChecks {
    /// The verdicts a run that stopped early still judges: the harness, the writes it read back, the cluster's recovery,
    /// split brain, and the safety verdicts themselves. Every other one is skipped as not judged.
    static let judgedWhenAborted: Set<String> = ["harness", "lost-writes", "cluster-recovered", "split-brain", "steady-state", "abort"]

    static func evaluate(_ scenario: Scenario, _ obs: Observations) -> [Verdict] {
        var out: [Verdict] = []
        if let s = obs.steadyState { out.append(steadyState(s)) }
        let watched = scenario.abortConditions
        if let a = obs.safetyAbort, a.cause != .steadyState {
            out.append(Verdict(id: "abort", title: "Safety limits", result: .aborted("aborted: \(a.reason)"),
                               notes: ["at +\(DurationText.human(ms: a.atMs)) (\(a.afterInjection ? "after" : "before") the first fault)",
                                       "cause: \(a.cause.rawValue)"] + watched.map { "watched: \($0) (\($0.text))" }))
        } else if !watched.isEmpty, obs.safetyAbort == nil {
            out.append(Verdict(id: "abort", title: "Safety limits",
                               result: .passed(measured: .count(0), target: .count(0)),
                               notes: ["no abort condition held while the steps ran"] + watched.map { "watched: \($0) (\($0.text))" }))
        }
        return out
    }

    static func steadyState(_ s: SteadyStateResult) -> Verdict {
        var notes = ["hypothesis: \(s.hypothesis)",
                     "measured over the steady state: \(s.ok + s.errors) requests, \(s.errors) errors"
                        + (s.errorRate.map { " (\(percent($0)))" } ?? "")
                        + (s.p99Us.map { ", p99 \(DurationText.human(ms: $0 / 1_000))" } ?? "")]
        notes.append(s.healthProblems.isEmpty ? "cluster healthy at its end" : "cluster: " + s.healthProblems.joined(separator: "; "))
        let title = "Steady-state hypothesis (before the fault)"
        guard s.met else {
            return Verdict(id: "steady-state", title: title,
                           result: .aborted("aborted: steady state not met, no fault injected: " + s.violations.joined(separator: "; ")),
                           notes: notes)
        }
        let result: VerdictResult = if let bound = s.hypothesis.errorRate {
            .passed(measured: .ratio(s.errorRate ?? 0), target: .ratio(bound))
        } else if let bound = s.hypothesis.p99 {
            .passed(measured: .ms((s.p99Us ?? 0) / 1_000), target: .ms(bound.milliseconds))
        } else {
            .passed(measured: .count(s.healthProblems.count), target: .count(0))
        }
        return Verdict(id: "steady-state", title: title, result: result, notes: notes)
    }

    /// An aborted run: every verdict but those in `judgedWhenAborted` is skipped, with the reason. An error from one of
    /// the others is skipped too: cut short, an RTO or a condition cannot be measured (no injection, no recovery), which
    /// says nothing about the harness; a real harness error is in the `harness` verdict, which stays.
    static func applyingAbort(_ verdicts: [Verdict], _ obs: Observations) -> [Verdict] {
        guard let a = obs.safetyAbort else { return verdicts }
        return verdicts.map { v in
            // A step the abort skipped reads as an error in its own verdict ("never ran"); the harness verdict keeps
            // a real harness error.
            guard !judgedWhenAborted.contains(v.id) else { return v }
            var v = v
            v.result = .skipped(reason: "not judged: the run was aborted (\(a.reason))")
            return v
        }
    }
}
