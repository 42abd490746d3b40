extension Scenario {
    /// The plan as numbered lines, for `run --dry-run`. Pure: nothing is resolved or touched.
    public func planLines() -> [String] {
        var lines: [String] = []
        func add(_ s: String) { lines.append("\(lines.count + 1). \(s)") }
        let shape = expectedShape
        add("check steady state: \(shape.members) members, 1 primary, \(shape.sync) sync standby(s), none down")
        if let a = application { add("prepare \(a) (before the load; not judged)") }
        add("load on: " + workloads.map(\.description).joined(separator: ", "))
        add("hold steady state for \(DurationText.format(steadyState))")
        var healed = false
        for (i, step) in steps.enumerated() {
            let label = conditionLabel(at: i) ?? ""
            let from = countsFrom(step: i)
            switch step {
            case .inject(let f):
                add("inject: \(f) (selector resolved at injection; reversal written to the fault ledger first)")
                healed = false
            case .await(let c, let w): add("\(label) \(c) within \(DurationText.format(w)) of \(from)")
            case .hold(let d):
                let faultsBefore = steps[..<i].contains { if case .inject = $0 { true } else { false } }
                add(faultsBefore && !healed ? "hold the fault for \(DurationText.format(d)), watching (direct write probes on every member)"
                                            : "wait \(DurationText.format(d)) with the load running (no fault in effect)")
            case .heal:
                add("heal: undo this run's faults newest first, then a full heal")
                healed = true
            case .expect(let c, let w):
                add("\(label): \(c) within \(DurationText.format(w ?? targets.settle)) of \(from)")
            case .operation(.mark(let n), _): add("mark: name this instant '\(n)'")
            case .operation(.startMigration(let rev), let w):
                add("operate: start migrating to revision \(rev) in the background" + (w.map { " within \(DurationText.format($0))" } ?? "")
                    + ", returning at once: the next steps run while it does, until the wait for it to finish"
                    + " (if it fails to start, the remaining steps are skipped and the run heals)")
            case .operation(let op, let w):
                add("operate: \(op)" + (w.map { " within \(DurationText.format($0))" } ?? "")
                    + " (no reversal; if it fails, the remaining steps are skipped and the run heals)")
            }
        }
        if !healed {
            add(injectedFaults.isEmpty ? "heal: only if an operation fails or is interrupted (nothing injected)"
                : "heal: undo this run's faults (implicit)")
        }
        let observe = targets.observeAfterHeal
        if observe > .zero {
            let why = targets.errorBudgetAfter != nil || targets.p99After != nil
                ? " (the after-heal error budget and p99 span the end of the heal to the load stop)"
                : (targets.writesBackAfterHeal != nil ? " (writes back after the heal are judged over it)" : "")
            add("observe: keep the load on the healed cluster for \(DurationText.format(observe))" + why)
        }
        add("load off" + (hasWrites ? "; read back every acknowledged write from the primary" : ""))
        var t = "targets: " + (targets.rto.map { "RTO <= \(DurationText.format($0)) (sustained \(DurationText.format(targets.sustain)))" }
            ?? "no RTO")
        t += ", lost writes <= \(targets.lostWrites)"
        if let w = targets.writesDuringFault { t += ", writes during the fault: \(w)" }
        if let b = targets.writesBackAfterHeal { t += ", writes back <= \(DurationText.format(b)) after the heal starts" }
        if let e = targets.errorBudgetDuring { t += ", errors during fault <= \(percent(e))" }
        if let e = targets.errorBudgetAfter { t += ", errors after heal <= \(percent(e))" }
        if let p = targets.p99During { t += ", p99 during fault <= \(DurationText.format(p))" }
        if let p = targets.p99After { t += ", p99 after heal <= \(DurationText.format(p))" }
        if let m = targets.migration, !MigrationChecks.spans(self).isEmpty {
            t += ", migration: " + [
                m.appErrors.map { "\(MigrationChecks.applicationWorkload) errors <= \($0)" },
                m.p99Factor.map { "p99 <= max(\(MigrationChecks.number($0)) x steady, \(DurationText.format(m.p99Floor)))" },
                m.lockWait.map { "lock wait <= \(DurationText.format($0))" },
                m.replicaLag.map { "replica lag <= \(DurationText.format($0))" },
                "schema at the target revision",
            ].compactMap { $0 }.joined(separator: ", ")
        }
        lines.append(t)
        if splitBrain == .provoked {
            lines.append("split brain provoked on purpose: the direct probes must see two members accepting writes during the fault, none after the heal")
        }
        return lines
    }
}

extension Scenario {
    /// What `faultline run <name> --dry-run` prints: a header, the summary, the overrides, the numbered plan.
    /// Every line, the last included, ends with a newline.
    public func dryRunText(overrides: [String], environment: String) -> String {
        var out = "\(name) on \(environment): dry run, nothing is touched\n"
        if !summary.isEmpty { out += "  \(summary)\n" }
        if !overrides.isEmpty { out += "  --set " + overrides.joined(separator: " --set ") + "\n" }
        out += "\n" + planLines().map { "  \($0)\n" }.joined()
        return out
    }
}

/// `0.5 %`, `12 %`: a ratio as a percentage with up to two decimals.
public func percent(_ ratio: Double) -> String {
    let hundredths = Int((ratio * 10_000).rounded())
    let whole = hundredths / 100, frac = hundredths % 100
    if frac == 0 { return "\(whole) %" }
    if frac % 10 == 0 { return "\(whole).\(frac / 10) %" }
    return "\(whole).\(frac < 10 ? "0" : "")\(frac) %"
}
