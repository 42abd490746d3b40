/// Verdicts of operation steps (backup, restore, ...). Pure. An operation with a `within` bound gets one verdict:
/// how long it took, on the runner's clock, against the bound. One without a bound gets a verdict only when
/// it did not succeed, so a failure never goes unnoticed. Marks take no time and get none.
public enum OperationChecks {
    public static func evaluate(_ scenario: Scenario, _ obs: Observations) -> [Verdict] {
        var out: [Verdict] = []
        let results = obs.operations ?? []
        for (index, step) in scenario.steps.enumerated() {
            guard case .operation(let op, let within) = step else { continue }
            if case .mark = op { continue }
            let base = "operation-\(op.slug)"
            let id = out.contains { $0.id == base } ? "\(base)-\(index + 1)" : base
            let r = results.first { $0.step == index }
            if let within {
                let title = "Operation: \(op) took ≤ \(DurationText.format(within))"
                out.append(Verdict(id: id, title: title, result: bounded(r, within, step: index, obs), notes: notes(r)))
            } else if let r, r.status != .succeeded {
                out.append(Verdict(id: id, title: "Operation: \(op)", result: unbounded(r, obs),
                                   notes: notes(r) + ["no time bound: judged on success alone"]))
            }
        }
        return out
    }

    /// Passed when it succeeded within the bound; failed when slower (measured: its time) or when it threw.
    static func bounded(_ r: OperationResult?, _ within: Duration, step: Int, _ obs: Observations) -> VerdictResult {
        let target = Quantity.ms(within.milliseconds)
        guard let r else { return notRun(step, obs) }
        switch r.status {
        case .succeeded:
            let e = r.elapsedMs ?? 0
            return .judge(.ms(e), atMost: target, why: "took \(DurationText.human(ms: e)), longer than allowed")
        case .failed:
            return .failed(measured: nil, target: target, why: failedWhy(r))
        case .unsupported:
            return .skipped(reason: "unsupported by this environment: \(r.error ?? "no reason given")")
        case .cancelled:
            return Assertions.aborted(obs) ?? .skipped(reason: "not measured: cancelled while it ran")
        }
    }

    /// For an operation without a bound that did not succeed: failures 1, target 0.
    static func unbounded(_ r: OperationResult, _ obs: Observations) -> VerdictResult {
        switch r.status {
        case .succeeded: .passed(measured: .count(0), target: .count(0))
        case .failed: .failed(measured: .count(1), target: .count(0), why: failedWhy(r))
        case .unsupported: .skipped(reason: "unsupported by this environment: \(r.error ?? "no reason given")")
        case .cancelled: Assertions.aborted(obs) ?? .skipped(reason: "not measured: cancelled while it ran")
        }
    }

    /// An operation step with no result: the run stopped before it, or an earlier operation failed and the
    /// remaining steps were skipped. Neither passes.
    static func notRun(_ step: Int, _ obs: Observations) -> VerdictResult {
        if let a = Assertions.aborted(obs) { return a }
        if let why = obs.unsupported, !why.isEmpty {
            return .skipped(reason: "not run: unsupported by this environment: " + why.joined(separator: "; "))
        }
        return skippedAfterFailure(step, obs) ?? .error("step \(step + 1) was never run")
    }

    /// Skipped, when an operation before `step` failed, or a heal before it left the cluster unsettled, and the
    /// runner skipped the remaining steps (that operation's or `cluster-recovered`'s verdict fails); nil otherwise.
    /// For any step's verdict.
    public static func skippedAfterFailure(_ step: Int, _ obs: Observations) -> VerdictResult? {
        if let f = obs.operations?.first(where: { $0.status == .failed && $0.step < step }) {
            return .skipped(reason: "not run: step \(f.step + 1) (\(f.operation)) failed, the remaining steps were skipped")
        }
        if let r = obs.recoveryFailure, let h = r.step, h < step {
            return .skipped(reason: "not run: the cluster did not recover after the heal (step \(h + 1)), the remaining steps were skipped")
        }
        return nil
    }

    static func failedWhy(_ r: OperationResult) -> String {
        "failed after \(DurationText.human(ms: r.elapsedMs ?? 0)): \(r.error ?? "no reason given")"
    }

    /// When it ran (ms since load start) and what the environment reported.
    static func notes(_ r: OperationResult?) -> [String] {
        guard let r else { return [] }
        var out = ["started +\(DurationText.human(ms: r.startedAtMs)) after load start"
                   + (r.endedAtMs.map { ", ended +\(DurationText.human(ms: $0))" } ?? ", never ended")]
        if let o = r.outcome {
            if !o.detail.isEmpty { out.append(o.detail) }
            out += o.facts.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
        }
        return out
    }
}
