/// Verdicts of a disaster-recovery drill: a scenario with a restore step. Pure. They replace the standard `lost-writes`
/// and `rto` (same ids, see `replacing`): after a restore to T every write after T is meant to be gone, and the
/// outage runs from the disaster (the destroy), not from an injection. The split at T is `RestoreSplit`'s.
public enum DRChecks {
    /// The drill's verdicts, in report order: lost writes, writes after T absent (with a target), RPO (with a target
    /// set), RTO. Empty for a scenario without a restore step.
    public static func evaluate(_ scenario: Scenario, _ obs: Observations) -> [Verdict] {
        guard let step = restoreStep(scenario), case .operation(let op, _) = scenario.steps[step] else { return [] }
        let target = op.restoreTarget
        let t = scenario.targets
        var out: [Verdict] = []
        let before = target == nil ? "" : " committed before T"
        let lostTitle = "Acknowledged writes\(before) lost by the restore"
        let afterTitle = "Writes committed after T absent after the restore"
        let rpoTitle = target == nil ? "RPO: the newest acknowledged commit back to the newest that survived the restore"
            : "RPO: T back to the newest acknowledged commit that survived the restore"
        let rtoTitle = "RTO: the disaster to the first acknowledged write on the restored cluster"

        if let stopped = notRestored(step, scenario, obs) {
            // The drill stopped before the destroy, or the destroy refused (its pre-check failed, as it does on the
            // archive-gap control): the cluster was never lost, every acknowledged write must be on it.
            if !(obs.operations ?? []).contains(where: { $0.operation == .destroy && $0.status == .succeeded }), scenario.hasWrites {
                var v = Assertions.lostWrites(scenario, obs)
                v.notes.append("the drill stopped before the destroy: the standard read-back of every acknowledged write is judged")
                out.append(v)
            } else {
                out.append(Verdict(id: "lost-writes", title: lostTitle, result: stopped))
            }
            if target != nil { out.append(Verdict(id: "writes-after-target-absent", title: afterTitle, result: stopped)) }
            if t.rpo != nil { out.append(Verdict(id: "rpo", title: rpoTitle, result: stopped)) }
            out.append(Verdict(id: "rto", title: rtoTitle, result: stopped))
            return out
        }

        switch readBack(obs) {
        case .failure(let why):
            out.append(Verdict(id: "lost-writes", title: lostTitle, result: why.result))
            if target != nil { out.append(Verdict(id: "writes-after-target-absent", title: afterTitle, result: why.result)) }
            if t.rpo != nil { out.append(Verdict(id: "rpo", title: rpoTitle, result: why.result)) }
        case .success(let check):
            let split = RestoreSplit.classify(acked: obs.load.acked, indeterminate: obs.load.indeterminate, check: check)
            if let p = split.problem {
                out.append(Verdict(id: "lost-writes", title: lostTitle, result: .error(p), notes: split.notes))
                if target != nil { out.append(Verdict(id: "writes-after-target-absent", title: afterTitle, result: .error(p))) }
                if t.rpo != nil { out.append(Verdict(id: "rpo", title: rpoTitle, result: .error(p))) }
            } else {
                out.append(lostWrites(lostTitle, split, check, scenario, obs))
                if target != nil { out.append(writesAfterTarget(afterTitle, split, check)) }
                if let rpo = t.rpo { out.append(rpoVerdict(rpoTitle, rpo, split, check)) }
            }
        }
        out.append(rto(rtoTitle, step, scenario, obs))
        return out
    }

    /// The standard verdicts with a drill's `lost-writes` and `rto` put in their places and its other verdicts after
    /// `lost-writes`; unchanged for a scenario without a restore step.
    public static func replacing(_ verdicts: [Verdict], _ scenario: Scenario, _ obs: Observations) -> [Verdict] {
        let dr = evaluate(scenario, obs)
        guard !dr.isEmpty else { return verdicts }
        let byID = Dictionary(dr.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let extra = dr.filter { $0.id != "lost-writes" && $0.id != "rto" }
        var out: [Verdict] = []
        for v in verdicts {
            switch v.id {
            case "rto": out.append(byID["rto"] ?? v)
            case "lost-writes": out.append(byID["lost-writes"] ?? v); out += extra
            default: out.append(v)
            }
        }
        return out
    }

    /// The first restore step's index.
    static func restoreStep(_ scenario: Scenario) -> Int? {
        scenario.steps.firstIndex { if case .operation(.restore, _) = $0 { true } else { false } }
    }

    /// Why the drill's verdicts cannot be judged because the restore did not succeed; nil when it did.
    static func notRestored(_ step: Int, _ scenario: Scenario, _ obs: Observations) -> VerdictResult? {
        guard scenario.hasWrites else { return .skipped(reason: "no write workload") }
        guard let r = obs.operations?.first(where: { $0.step == step }) else { return OperationChecks.notRun(step, obs) }
        switch r.status {
        case .succeeded: return nil
        // Its own verdict fails; these are not measured.
        case .failed: return OperationChecks.skippedAfterFailure(step + 1, obs) ?? .skipped(reason: "not run: step \(step + 1) failed")
        case .unsupported: return .skipped(reason: "unsupported by this environment: \(r.error ?? "no reason given")")
        case .cancelled: return Assertions.aborted(obs) ?? .skipped(reason: "not measured: cancelled while it ran")
        }
    }

    struct Unjudged: Error { var result: VerdictResult }

    /// The drill's read-back, complete; else why not (the run aborted, or a read failed: the harness's error).
    static func readBack(_ obs: Observations) -> Result<RestoreCheck, Unjudged> {
        guard let c = obs.restore else {
            return .failure(Unjudged(result: Assertions.aborted(obs)
                ?? .error("the drill's commit times were not gathered (no destroy ran before the restore)")))
        }
        // A run that stopped early read nothing back after the restore: that is the harness verdict's to say.
        if let e = c.error { return .failure(Unjudged(result: Assertions.aborted(obs) ?? .error("the drill's read-back failed: \(e)"))) }
        return .success(c)
    }

    static func lostWrites(_ title: String, _ s: RestoreSplit, _ c: RestoreCheck, _ scenario: Scenario, _ obs: Observations) -> Verdict {
        let acked = Dictionary(obs.load.acked.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var notes = ["\(s.expectedPresent) acknowledged write(s)\(c.target == nil ? " sent before the disaster" : " committed before T") expected present",
                     "\(c.presentAfter.count) row(s) present after the restore"]
        notes.append("\(s.indeterminate.count) indeterminate (neither lost nor kept)" + sample(s.indeterminate, 10))
        notes += s.notes
        let shown = s.lost.prefix(5).map { id in
            acked[id].map { "\(id) (acked at \(DurationText.human(ms: Int($0.ackMs))) by \($0.server))" } ?? id
        }
        let why = "\(s.lost.count) acknowledged write(s)\(c.target == nil ? "" : " committed before T") missing after the restore: "
            + shown.joined(separator: ", ") + (s.lost.count > 5 ? ", ..." : "")
        return Verdict(id: "lost-writes", title: title,
                       result: .judge(.count(s.lost.count), atMost: .count(scenario.targets.lostWrites), why: why),
                       notes: notes, items: s.lost)
    }

    static func writesAfterTarget(_ title: String, _ s: RestoreSplit, _ c: RestoreCheck) -> Verdict {
        let n = s.presentAfterTarget.count
        let why = "\(n) row(s) committed after T present after the restore: the restore went past T" + sample(s.presentAfterTarget, 5)
        return Verdict(id: "writes-after-target-absent", title: title,
                       result: .judge(.count(n), atMost: .count(0), why: why),
                       notes: [targetNote(s, c), "every write committed after T + \(RestoreSplit.format(c.resolutionMs)) must be absent"],
                       items: s.presentAfterTarget)
    }

    static func rpoVerdict(_ title: String, _ rpo: Duration, _ s: RestoreSplit, _ c: RestoreCheck) -> Verdict {
        let target = Quantity.ms(rpo.milliseconds)
        var notes: [String] = []
        if c.target != nil { notes.append(targetNote(s, c)) }
        notes.append("newest surviving acknowledged commit: " + instant(s.newestSurvivingAckedCommitEpochMs, s, c))
        notes.append("newest acknowledged commit" + (c.target == nil ? "" : " up to T") + ": " + instant(s.newestAckedCommitEpochMs, s, c))
        guard let ms = s.rpoMs else {
            let result: VerdictResult
            if s.expectedPresent == 0 && s.newestAckedCommitEpochMs == nil {
                result = .skipped(reason: "no acknowledged write the restore had to keep")
            } else if s.newestSurvivingAckedCommitEpochMs == nil {
                result = .failed(measured: nil, target: target, why: "no acknowledged write the restore had to keep survived it")
            } else {
                result = .error("RPO not measured: " + (s.notes.last ?? "no time for a lost write"))
            }
            return Verdict(id: "rpo", title: title, result: result, notes: notes)
        }
        let measured = Int(ms.rounded())
        return Verdict(id: "rpo", title: title, result: .judge(.ms(measured), atMost: target,
                       why: "\(DurationText.human(ms: measured)) of acknowledged writes lost, target \(DurationText.human(ms: target.value.asInt))"),
                       notes: notes)
    }

    /// RTO from the disaster (the destroy began) to the first acknowledged write the workload sent after it and that
    /// was acknowledged once the destroy had finished (on the restored cluster), judged
    /// against `Targets.rto`; the service probe's first write after it and the restore's breakdown in the notes.
    static func rto(_ title: String, _ step: Int, _ scenario: Scenario, _ obs: Observations) -> Verdict {
        let destroy = obs.operations?.last { $0.operation == .destroy && $0.step < step }
        guard let disaster = obs.restore?.disasterLoadMs ?? destroy?.startedAtMs else {
            return Verdict(id: "rto", title: title, result: Assertions.aborted(obs) ?? .error("no destroy ran before the restore: no disaster to measure from"))
        }
        var notes = ["disaster (the destroy began) at +\(DurationText.human(ms: disaster)) after load start"]
        if let r = obs.operations?.first(where: { $0.step == step }) {
            if let e = r.elapsedMs { notes.append("restore step took \(DurationText.human(ms: e))") }
            let facts = r.outcome?.facts ?? [:]
            let parts: [(String, String)] = [("restore-ms", "restore"), ("replay-ms", "WAL replay"),
                                             ("promotion-ms", "promotion"), ("replicas-ms", "replicas")]
            let breakdown = parts.compactMap { key, label in
                facts[key].flatMap(Double.init).map { "\(label) \(DurationText.human(ms: Int($0.rounded())))" }
            }
            if !breakdown.isEmpty { notes.append("breakdown: " + breakdown.joined(separator: ", ")) }
        }
        // On the restored cluster: acknowledged once the destroy had finished (a write acknowledged while it ran was the
        // doomed cluster's last, seen here within milliseconds of the disaster).
        let gone = Double(max(disaster, destroy?.endedAtMs ?? disaster))
        let first = obs.load.acked.filter { $0.startMs >= Double(disaster) && $0.ackMs >= gone }.min { $0.ackMs < $1.ackMs }
        let measured = first.map { Int(($0.ackMs - Double(disaster)).rounded(.up)) }
        if let p = obs.load.probe, let ack = p.attempts.first(where: { $0.ok && $0.startMs >= Double(disaster) && $0.endMs >= gone }) {
            let at = Int((ack.endMs - Double(disaster)).rounded(.up))
            let earlier = measured.map { $0 - at }.map { $0 > 0 ? ", \(DurationText.human(ms: $0)) before the workload's" : "" } ?? ""
            notes.append("service probe: first acknowledged write after the disaster at +\(DurationText.human(ms: at))\(earlier)")
        }
        if let first { notes.append("first acknowledged write after the disaster: \(first.id) by \(first.server)") }
        guard let rtoTarget = scenario.targets.rto else {
            notes.append(measured.map { "writes back after \(DurationText.human(ms: $0))" } ?? "no acknowledged write after the disaster")
            return Verdict(id: "rto", title: title, result: .skipped(reason: "no RTO target"), notes: notes)
        }
        let target = Quantity.ms(rtoTarget.milliseconds)
        guard let measured else {
            let observed = max(0, obs.endMs - disaster)
            return Verdict(id: "rto", title: title, result: Assertions.aborted(obs) ?? .failed(measured: nil, target: target,
                           why: "no acknowledged write after the disaster in the \(DurationText.human(ms: observed)) observed"), notes: notes)
        }
        return Verdict(id: "rto", title: title, result: .judge(.ms(measured), atMost: target,
                       why: "writes back \(DurationText.human(ms: measured)) after the disaster, target \(DurationText.human(ms: target.value.asInt))"),
                       notes: notes)
    }

    /// "T: <ISO> (+<load ms> after load start)".
    static func targetNote(_ s: RestoreSplit, _ c: RestoreCheck) -> String {
        let iso = c.targetISO ?? s.targetEpochMs.map { EpochTime.iso(milliseconds: $0) } ?? "unknown"
        return "T (mark '\(c.target ?? "")'): \(iso)" + (c.targetLoadMs.map { " (+\(DurationText.human(ms: $0)) after load start)" } ?? "")
    }

    /// An epoch instant as ISO, with its place in the load's frame and its distance before T when there is one.
    static func instant(_ epochMs: Double?, _ s: RestoreSplit, _ c: RestoreCheck) -> String {
        guard let e = epochMs else { return "none" }
        var out = EpochTime.iso(milliseconds: e)
        if let o = c.loadOriginEpochMs { out += " (+\(DurationText.human(ms: Int((e - o).rounded()))) after load start)" }
        if c.target != nil, let t = s.targetEpochMs {
            let d = Int((t - e).rounded())
            out += d > 0 ? ", \(DurationText.human(ms: d)) before T" : ", at T"
        }
        return out
    }

    /// ": a, b, c, ..." for the first `n` ids; empty for none.
    static func sample(_ ids: [String], _ n: Int) -> String {
        ids.isEmpty ? "" : ": " + ids.prefix(n).joined(separator: ", ") + (ids.count > n ? ", ..." : "")
    }
}
