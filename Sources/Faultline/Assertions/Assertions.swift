/// The checks of a run: pure functions from a scenario and its observations to verdicts.
public enum Assertions {
    /// Every verdict for this run, in report order (see `Judgement`, which also keeps the recovery analysis).
    public static func evaluate(_ scenario: Scenario, _ obs: Observations) -> [Verdict] {
        Judgement(scenario, obs).verdicts
    }

    /// Every verdict for this run, in report order: harness, RTO, lost writes, cluster recovered, conditions, error
    /// budgets, latency, operations, a migration's (with `Targets.migration`).
    /// `recovery` is the run's one `RecoveryAnalysis` (it is computed once, by `Judgement`). A drill (a restore step)
    /// gets `DRChecks`' `lost-writes` and `rto` instead of these, and its RPO and writes-after-T verdicts.
    static func verdicts(_ scenario: Scenario, _ obs: Observations, recovery: RecoveryAnalysis?) -> [Verdict] {
        var out: [Verdict] = []
        if let h = harness(obs) { out.append(h) }
        out += SafetyChecks.evaluate(scenario, obs)
        out.append(rto(scenario, obs, recovery))
        out.append(lostWrites(scenario, obs))
        if let r = clusterRecovered(obs) { out.append(r) }
        out += conditions(scenario, obs)
        out += phaseChecks(scenario, obs, recovery)
        out += WritePhases.evaluate(scenario, obs)
        out += WaitChecks.evaluate(scenario, obs)
        out += FaultChecks.evaluate(scenario, obs)
        out += OperationChecks.evaluate(scenario, obs)
        out += MigrationChecks.evaluate(scenario, obs, versions: obs.load.versions)
        return SafetyChecks.applyingAbort(FaultChecks.applyingUnsupported(DRChecks.replacing(out, scenario, obs), obs), obs)
    }

    /// An error verdict when the harness failed or the run was cancelled; nil when neither happened.
    public static func harness(_ obs: Observations) -> Verdict? {
        var problems = obs.harnessErrors
        if obs.cancelled { problems.insert("run cancelled before it finished", at: 0) }
        guard !problems.isEmpty else { return nil }
        return Verdict(id: "harness", title: "Harness and environment", result: .error(problems.joined(separator: "; ")),
                       notes: problems)
    }

    /// RTO from the injection, read at the instant `Targets.rtoJudges` names (service restored by default: the service
    /// probe, which never backs off; else application recovered: the workload), with both instants and detection /
    /// promotion / routing in the notes. Without probe data it judges the application instant and says so.
    public static func rto(_ scenario: Scenario, _ obs: Observations, _ recovery: RecoveryAnalysis?) -> Verdict {
        let judged = recovery?.instant(scenario.targets.rtoJudges)
        let title = "RTO (\((judged?.instant ?? scenario.targets.rtoJudges).label), from the injection)"
        guard scenario.hasWrites else { return Verdict(id: "rto", title: title, result: .skipped(reason: "no write workload")) }
        guard let r = recovery, let judged else {
            return Verdict(id: "rto", title: title, result: aborted(obs) ?? (scenario.injectedFaults.isEmpty ? .skipped(reason: "the scenario injects no fault") : .error("no fault was injected")))
        }
        var notes: [String] = []
        func note(_ label: String, _ ms: Int?) {
            notes.append("\(label): " + (ms.map { "+\(DurationText.human(ms: $0))" } ?? "not seen"))
        }
        if let interval = r.probeIntervalMs {
            note("service restored (service probe: a write every \(DurationText.human(ms: interval)), no backoff)", r.serviceRestoredMs)
        }
        note("application recovered (the workload, with its clients' reconnect backoff)", r.recoveryMs)
        if judged.fellBack {
            notes.append("no service-probe data (an older run, or a load without the probe): the application instant is judged")
        }
        note("detection (old leader gone)", r.detectionMs)
        note("promotion (new leader seen)", r.promotionMs)
        note(r.hasProbe ? "routing (first probe write after promotion)" : "routing (first write after promotion)", r.firstWriteAfterPromotionMs)
        if r.hasProbe { note("first probe error", r.probeOutageStartMs) }
        note("first write error", r.outageStartMs)
        notes.append("sustained success required: \(DurationText.format(scenario.targets.sustain)) clean")
        if let e = WritePhases.faultErrorsNote(obs) { notes.append(e) }
        let service = judged.instant == .serviceRestored
        let what = service ? "the service" : "writes"
        guard let rtoTarget = scenario.targets.rto else {
            notes.append(judged.ms.map { "\(service ? "service restored" : "writes recovered") after \(DurationText.human(ms: $0))" }
                         ?? "\(what) did not recover in the \(DurationText.human(ms: r.observedMs)) observed after injection")
            return Verdict(id: "rto", title: title, result: aborted(obs) ?? .skipped(
                reason: "no RTO target: this scenario judges what writes did during the fault and how soon they came back after the heal"),
                notes: notes)
        }
        let target = Quantity.ms(rtoTarget.milliseconds)
        guard let measured = judged.ms else {
            if let a = aborted(obs) { return Verdict(id: "rto", title: title, result: a, notes: notes) }
            let why = service
                ? "the service never recovered: the service probe got no sustained run of acknowledged writes in the \(DurationText.human(ms: r.observedMs)) observed after injection"
                : "writes never recovered in the \(DurationText.human(ms: r.observedMs)) observed after injection"
            return Verdict(id: "rto", title: title, result: .failed(measured: nil, target: target, why: why), notes: notes)
        }
        if service {
            if r.probeOutageStartMs == nil { notes.append("no service-probe errors after injection") }
        } else if r.outageStartMs == nil {
            notes.append("no client-visible write errors after injection")
        }
        return Verdict(id: "rto", title: title, result: .judge(.ms(measured), atMost: target,
            why: "\(service ? "service restored" : "writes recovered") after \(DurationText.human(ms: measured)), target \(DurationText.human(ms: target.value.asInt))"),
            notes: notes)
    }

    /// Acknowledged writes missing on read-back. Indeterminate writes are counted apart, never lost or safe.
    public static func lostWrites(_ scenario: Scenario, _ obs: Observations) -> Verdict {
        let title = "Lost acknowledged writes"
        guard scenario.hasWrites else { return Verdict(id: "lost-writes", title: title, result: .skipped(reason: "no write workload")) }
        let indeterminate = obs.load.indeterminate.count
        var notes = ["\(obs.load.acked.count) acknowledged",
                     "\(indeterminate) indeterminate (COMMIT unanswered: neither lost nor safe)"]
        guard let rb = obs.readBack else {
            return Verdict(id: "lost-writes", title: title,
                           result: aborted(obs) ?? .error("acknowledged writes were not read back"), notes: notes)
        }
        if let e = rb.error {
            return Verdict(id: "lost-writes", title: title, result: .error("read-back failed: \(e)"), notes: notes)
        }
        let missing = Set(rb.missing)
        let lost = obs.load.acked.filter { missing.contains($0.id) }
        notes.insert("\(rb.checked) read back", at: 1)
        if let members = rb.members { notes += everyMemberNotes(rb, members) }
        let target = Quantity.count(scenario.targets.lostWrites)
        let sample = lost.prefix(5).map { "\($0.id) (acked at \(DurationText.human(ms: Int($0.ackMs))) by \($0.server))" }
        let whereMissing = rb.members == nil ? "missing after recovery" : "found on no member that answered"
        let why = "\(lost.count) acknowledged write(s) \(whereMissing): " + sample.joined(separator: ", ")
            + (lost.count > 5 ? ", ..." : "")
        return Verdict(id: "lost-writes", title: title, result: .judge(.count(lost.count), atMost: target, why: why),
                       notes: notes, items: lost.map(\.id))
    }

    /// Notes of a read-back made on every member: why, who answered (with how many ids each lacked), who did not.
    static func everyMemberNotes(_ rb: ReadBack, _ members: [MemberReadBack]) -> [String] {
        let answered = members.filter { $0.error == nil }, silent = members.filter { $0.error != nil }
        var notes = ["read back on every member that answered, not on the primary"
                     + (rb.membersBecause.map { ", because \($0)" } ?? "") + ": lost = found on no member"]
        notes.append("answered: " + answered.map { "\($0.member) (\($0.missing ?? 0) missing)" }.joined(separator: ", "))
        if !silent.isEmpty {
            notes.append("did not answer (an id lost on the others may still be there): "
                         + silent.map { "\($0.member): \($0.error ?? "")" }.joined(separator: "; "))
        }
        return notes
    }

    /// Whether the cluster settled after a heal undid every fault; present only when a heal ran. Fails with the
    /// heal's error and the last topology when it did not settle: the system failed to recover, the harness did
    /// not fail (a reversal that failed is a harness error instead).
    public static func clusterRecovered(_ obs: Observations) -> Verdict? {
        let id = "cluster-recovered", title = "Cluster recovered after the heal"
        let target = Quantity.count(0)
        if let f = obs.recoveryFailure {
            let heal = f.step.map { "the heal (step \($0 + 1))" } ?? "the cleanup heal"
            return Verdict(id: id, title: title, result: .failed(measured: .count(1), target: target,
                why: "every fault was undone, yet the cluster did not recover: \(f.message); last seen: \(f.lastSeen)"),
                notes: ["\(heal) undid every fault and gave up waiting for the cluster: \(f.message)", "last topology: \(f.lastSeen)",
                        "measured: heals after which the cluster did not settle"]
                    + (f.step == nil ? [] : ["the steps after the heal were skipped"]))
        }
        guard obs.events.contains(where: { $0.kind == .healStarted }) else { return nil }
        guard obs.healFinishedAtMs != nil else {
            return Verdict(id: id, title: title, result: aborted(obs) ?? .skipped(reason: "the heal did not finish"))
        }
        return Verdict(id: id, title: title, result: .passed(measured: .count(0), target: target),
                       notes: ["measured: heals after which the cluster did not settle"])
    }

    /// One verdict per `Await` / `Expect` step. Its measured time counts from the end of the step before it (its
    /// `within` does too), and the title says which instant that is; a note gives the instant on the run's time axis.
    public static func conditions(_ scenario: Scenario, _ obs: Observations) -> [Verdict] {
        var out: [Verdict] = []
        for (index, step) in scenario.steps.enumerated() {
            guard let prefix = scenario.conditionLabel(at: index) else { continue }
            let condition: Condition
            switch step {
            case .await(let c, _), .expect(let c, _): condition = c
            case .inject, .heal, .hold, .operation: continue
            }
            let base = "\(prefix)-\(condition.slug)"
            let id = out.contains { $0.id == base } ? "\(base)-\(index + 1)" : base
            let title = "\(prefix.capitalizedFirst) (from \(scenario.countsFrom(step: index))): \(condition)"
            guard let r = obs.conditions.first(where: { $0.step == index }) else {
                out.append(Verdict(id: id, title: title, result: aborted(obs) ?? OperationChecks.skippedAfterFailure(index, obs)
                                   ?? .error("step \(index + 1) was never run")))
                continue
            }
            let result: VerdictResult = if let e = r.elapsedMs {
                .judge(.ms(e), atMost: .ms(r.withinMs), why: "met after \(DurationText.human(ms: e)), later than allowed")
            } else {
                .failed(measured: nil, target: .ms(r.withinMs),
                        why: "not met within \(DurationText.human(ms: r.withinMs)); last seen: \(r.lastSeen)")
            }
            var notes = ["counted from \(scenario.countsFrom(step: index)), at +\(DurationText.human(ms: r.startedAtMs)) after load start"]
            if let met = r.metAtMs {
                var at = "met at +\(DurationText.human(ms: met)) after load start"
                if let inj = obs.events.last(where: { $0.kind == .faultInjected && $0.atMs <= met }) {
                    at += ", \(DurationText.human(ms: met - inj.atMs)) after the injection"
                }
                notes.append(at)
            }
            out.append(Verdict(id: id, title: title, result: result, notes: notes))
        }
        return out
    }

    /// Error budget and p99 latency while the fault is in effect (client recovery → heal finished)
    /// and after the heal (heal finished → load stop). Only targets that are set produce verdicts.
    public static func phaseChecks(_ scenario: Scenario, _ obs: Observations, _ recovery: RecoveryAnalysis?) -> [Verdict] {
        let t = scenario.targets
        var out: [Verdict] = []
        let during: Result<Range<Int>, SkipReason> = {
            guard let r = recovery else { return .failure(SkipReason("no fault was injected")) }
            guard let rec = r.recoveryMs else { return .failure(SkipReason("clients never recovered; the RTO verdict covers it")) }
            let from = r.injectedAtMs + rec
            let to = obs.healFinishedAtMs ?? obs.endMs
            return .success(from..<max(from, to))
        }()
        let after: Result<Range<Int>, SkipReason> = {
            guard let h = obs.healFinishedAtMs else { return .failure(SkipReason("the heal did not finish")) }
            return .success(h..<max(h, obs.endMs))
        }()
        if let b = t.errorBudgetDuring { out.append(errorBudget("error-budget-during", "Error budget during the fault", b, during, obs)) }
        if let b = t.errorBudgetAfter { out.append(errorBudget("error-budget-after", "Error budget after the heal", b, after, obs)) }
        if let p = t.p99During { out.append(latency("p99-during", "p99 latency during the fault", p, during, obs)) }
        if let p = t.p99After { out.append(latency("p99-after", "p99 latency after the heal", p, after, obs)) }
        return out
    }

    public struct SkipReason: Error, Equatable {
        public var text: String
        init(_ text: String) { self.text = text }
    }

    /// A verdict over one phase: skipped when the phase has no range (or the run stopped early), else `judge(range)`.
    static func inPhase(_ id: String, _ title: String, _ phase: Result<Range<Int>, SkipReason>, _ obs: Observations,
                        _ judge: (Range<Int>) -> Verdict) -> Verdict {
        switch phase {
        case .failure(let s): Verdict(id: id, title: title, result: aborted(obs) ?? .skipped(reason: s.text))
        case .success(let range): judge(range)
        }
    }

    static func errorBudget(_ id: String, _ title: String, _ budget: Double, _ phase: Result<Range<Int>, SkipReason>,
                            _ obs: Observations) -> Verdict {
        inPhase(id, title, phase, obs) { range in errorBudget(id, title, budget, range, obs) }
    }

    static func errorBudget(_ id: String, _ title: String, _ budget: Double, _ range: Range<Int>, _ obs: Observations) -> Verdict {
        let ws = phaseWindows(obs, range)
        // Requests failed fast in the client's reconnect backoff were never sent: each follows a failed attempt that
        // is counted itself. They are reported apart, not budgeted (docs/faults.md, "After-heal error budget").
        let backoff = ws.reduce(0) { $0 + ($1.errors[.clientBackoff] ?? 0) }
        let total = ws.reduce(0) { $0 + $1.total } - backoff, errors = ws.reduce(0) { $0 + $1.errorCount } - backoff
        guard total > 0 else { return Verdict(id: id, title: title, result: .skipped(reason: "no requests sent in the phase")) }
        let ratio = Double(errors) / Double(total)
        var byOutcome: [Outcome: Int] = [:]
        for w in ws { for (k, v) in w.errors where k != .clientBackoff { byOutcome[k, default: 0] += v } }
        let detail = byOutcome.sorted { $0.key < $1.key }.map { "\($0.key.rawValue)=\($0.value)" }.joined(separator: " ")
        var notes = ["phase \(DurationText.human(ms: range.lowerBound))…\(DurationText.human(ms: range.upperBound)) after load start",
                     "\(errors) errors in \(total) requests sent" + (detail.isEmpty ? "" : ": \(detail)")]
        if backoff > 0 {
            notes.append("\(backoff) more requests failed fast, unsent, while their client waited out its reconnect backoff "
                         + "(client_backoff; errors the clients saw, counted apart from the budget)")
        }
        return Verdict(id: id, title: title,
                       result: .judge(.ratio(ratio), atMost: .ratio(budget), why: "\(errors) errors in \(total) requests sent (\(detail))"),
                       notes: notes)
    }

    static func latency(_ id: String, _ title: String, _ target: Duration, _ phase: Result<Range<Int>, SkipReason>,
                        _ obs: Observations) -> Verdict {
        inPhase(id, title, phase, obs) { range in latency(id, title, target, range, obs) }
    }

    static func latency(_ id: String, _ title: String, _ target: Duration, _ range: Range<Int>, _ obs: Observations) -> Verdict {
        guard let p99Us = weightedP99(phaseWindows(obs, range)) else {
            return Verdict(id: id, title: title, result: .skipped(reason: "no acknowledged requests in the phase"))
        }
        let ms = (p99Us + 999) / 1_000
        return Verdict(id: id, title: title,
                       result: .judge(.ms(ms), atMost: .ms(target.milliseconds), why: "p99 \(DurationText.human(ms: ms)) over target"),
                       notes: ["ok-weighted p99 of the 100 ms windows' p99s (an approximation of the phase p99)"])
    }

    /// The windows starting inside `range`: the "all" aggregate when the load reports one, else every workload.
    static func phaseWindows(_ obs: Observations, _ range: Range<Int>) -> [TimelineWindow] {
        let hasAll = obs.load.windows.contains { $0.workload == "all" }
        return obs.load.windows.filter { ($0.workload == "all") == hasAll && range.contains($0.startMs) }
    }

    /// The smallest window p99 at or below which 99 % of the acknowledged requests' windows lie (weights: ok counts).
    static func weightedP99(_ windows: [TimelineWindow]) -> Int? {
        let ws = windows.compactMap { w in w.p99Us.map { (p99: $0, weight: w.ok) } }.filter { $0.weight > 0 }.sorted { $0.p99 < $1.p99 }
        let total = ws.reduce(0) { $0 + $1.weight }
        guard total > 0 else { return nil }
        let threshold = Double(total) * 0.99
        var acc = 0
        for w in ws {
            acc += w.weight
            if Double(acc) >= threshold { return w.p99 }
        }
        return ws.last?.p99
    }

    /// Skipped-because-aborted, when the run was cancelled or hit a harness error (the harness verdict says why).
    static func aborted(_ obs: Observations) -> VerdictResult? {
        if obs.cancelled { return .skipped(reason: "not measured: the run was cancelled") }
        if !obs.harnessErrors.isEmpty { return .skipped(reason: "not measured: the run stopped on a harness error") }
        return nil
    }
}

extension String {
    var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }
}

extension Double {
    var asInt: Int { Int(self) }
}
