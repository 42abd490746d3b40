import Faultline

/// `runbook.md`: a disaster-recovery drill as a person could repeat it by hand: what the drill does, T and the
/// ledger run id, every operation with the commands it ran (time, purpose, command, outcome), then the results and
/// a query to check the split at T independently. Pure; every recorded string is masked (`SecretMasker.mask`).
public enum Runbook {
    /// The runbook of a run whose operations recorded commands; nil when none did (no runbook is written).
    public static func render(_ r: RunReport) -> String? {
        let ops = (r.observations.operations ?? []).enumerated().sorted { ($0.element.step, $0.offset) < ($1.element.step, $1.offset) }
            .map(\.element)
        guard ops.contains(where: { !($0.outcome?.commands ?? []).isEmpty }) else { return nil }
        let s = r.scenario
        var md = "# Runbook: \(m(s.name)), run `\(m(r.runId))`\n\n"
        if !s.summary.isEmpty { md += "> \(m(s.summary))\n\n" }
        md += "- date: \(m(r.startedAt)), took \(DurationText.human(ms: r.durationMs))\n"
        md += "- environment: `\(m(r.environment))`\n"
        md += "- result: **\(m(r.status.uppercased()))** (exit \(r.exitCode))\n"
        if !r.overrides.isEmpty { md += "- overrides: " + r.overrides.map { "`\(m($0))`" }.joined(separator: " ") + "\n" }

        md += "\n## What this drill does\n\n"
        md += "1. Load on: " + m(s.workloads.map(\.description).joined(separator: ", ")) + "; steady state for \(DurationText.format(s.steadyState)).\n"
        for (i, step) in s.steps.enumerated() { md += "\(i + 2). \(m(describe(step, in: s)))\n" }

        md += "\n## Target and ledger\n\n"
        md += target(r, ops)
        md += "- ledger run id: `\(m(r.observations.load.runID ?? "(no ledger workload ran)"))` (the `run_id` of this run's rows in `faultline_ledger`)\n"

        for op in ops { md += "\n" + section(op, in: r) }
        md += "\n" + results(r)
        return md
    }

    // MARK: - Parts

    /// T: the mark the restore went to, as ISO and in the load's frame; or, without a target, the disaster's instant.
    static func target(_ r: RunReport, _ ops: [OperationResult]) -> String {
        let obs = r.observations
        let rc = obs.restore
        let name = rc?.target ?? ops.lazy.compactMap(\.operation.restoreTarget).first
        let restores = ops.contains { $0.operation.slug == "restore" }
        guard let name else {
            var md = restores ? "- T: none, the restore went to the end of the archive (a sudden loss)\n" : "- T: none (no restore to a mark)\n"
            if let d = rc?.disasterLoadMs ?? ops.first(where: { $0.operation == .destroy })?.startedAtMs {
                md += "- disaster (destroy began): \(d) ms since load start (+\(DurationText.human(ms: d)))\n"
            }
            return md
        }
        let mark = ops.first { $0.operation == .mark(name) }
        let iso = rc?.targetISO ?? mark?.outcome?.facts["server-time"]
        let ms = rc?.targetLoadMs ?? obs.mark(name)
        var md = "- T: mark '\(m(name))' at " + (iso.map { "`\(m($0))` (server time)" } ?? "an unknown server time")
        md += ms.map { ", \($0) ms since load start (+\(DurationText.human(ms: $0)))" } ?? ""
        md += "\n"
        if let d = rc?.disasterLoadMs {
            md += "- disaster (destroy began): \(d) ms since load start (+\(DurationText.human(ms: d)))\n"
        }
        return md
    }

    /// One operation: what, when, how it went, then its commands as a numbered list.
    static func section(_ op: OperationResult, in r: RunReport) -> String {
        var md = "## Step \(op.step + 1): \(m(op.operation.description))\n\n"
        let end = op.endedAtMs.map { "+" + DurationText.human(ms: $0) } ?? "not finished"
        md += "- started +\(DurationText.human(ms: op.startedAtMs)) after load start, ended \(end)"
        if let e = op.elapsedMs { md += ", took \(DurationText.human(ms: e))" }
        if op.step < r.scenario.steps.count, let w = r.scenario.effectiveWithin(r.scenario.steps[op.step]) {
            md += " (bound: \(DurationText.format(w)))"
        }
        md += "\n- status: **\(op.status.rawValue)**" + (op.error.map { ": \(m($0))" } ?? "") + "\n"
        if let d = op.outcome?.detail, !d.isEmpty { md += "- outcome: \(m(d))\n" }
        let commands = op.outcome?.commands ?? []
        if commands.isEmpty { return md + "\nNo commands recorded.\n" }
        let items = commands.enumerated().map { i, c in
            "\(i + 1). **\(m(c.purpose))** (at `\(m(c.at))`)\n\n" + codeBlock(m(c.command), language: "sh", indent: "   ")
                + "\n   Outcome: \(m(c.outcome))\n"
        }
        return md + "\n" + items.joined(separator: "\n")
    }

    /// The drill's verdicts (RPO and RTO first), the lost and after-T counts, and how to check them independently.
    static func results(_ r: RunReport) -> String {
        var md = "## Results\n\n"
        let first = ["rpo", "rto", "lost-writes", "writes-after-target-absent"]
        let ordered = first.compactMap { id in r.verdicts.first { $0.id == id } } + r.verdicts.filter { !first.contains($0.id) }
        if ordered.isEmpty {
            md += "No verdicts.\n"
        } else {
            md += "| Check | Result | Measured | Target | Notes |\n|---|---|---|---|---|\n"
            for v in ordered {
                let res = v.result
                let measured = res.measured?.description ?? (res.status == .failed ? "never" : "")
                let target = res.target.map { "≤ \($0)" } ?? ""
                let notes = ([res.message].compactMap { $0 } + v.notes).map { Render.cell(m($0)) }.joined(separator: "<br>")
                md += "| \(Render.cell(m(v.title))) | \(mark(res.status)) | \(measured) | \(target) | \(notes) |\n"
            }
        }
        md += "\n"
        md += "- lost (acknowledged, should be back, absent after the restore): " + count("lost-writes", r) + "\n"
        md += "- after T (committed after T, present after the restore): " + count("writes-after-target-absent", r) + "\n"
        if let rc = r.observations.restore {
            let before = rc.commitsBefore.map { c in
                "\(c.count)" + (rc.targetEpochMs.map { t in " (\(c.values.filter { $0 <= t }.count) committed at or before T)" } ?? "")
            } ?? "not read"
            md += "- ledger rows of this run just before the destroy: \(before); after the restore: \(rc.presentAfter.count)\n"
            if let e = rc.error { md += "- read-back incomplete: \(m(e))\n" }
        }
        md += "\n" + verify(r)
        return md
    }

    /// The SQL that checks the split at T on the restored primary, without faultline.
    static func verify(_ r: RunReport) -> String {
        let runID = sql(m(r.observations.load.runID ?? "<run id>"))
        var md = "### Verify independently\n\n"
        md += "On the restored primary (`track_commit_timestamp = on`), compare with `ledger.jsonl` (every acknowledged id):\n\n"
        var q = ""
        if let iso = r.observations.restore?.targetISO ?? targetISOFromMark(r) {
            let t = sql(m(iso))
            q += "-- rows committed at or before T: every acknowledged write up to T must be here\n"
            q += "SELECT count(*) FROM faultline_ledger\n WHERE run_id = \(runID) AND pg_xact_commit_timestamp(xmin) <= \(t)::timestamptz;\n"
            q += "-- rows committed after T: must be 0\n"
            q += "SELECT count(*) FROM faultline_ledger\n WHERE run_id = \(runID) AND pg_xact_commit_timestamp(xmin) > \(t)::timestamptz;\n"
        } else {
            q += "-- no target: the newest commit that survived (RPO: the newest acknowledged write back to this)\n"
            q += "SELECT count(*), max(pg_xact_commit_timestamp(xmin)) FROM faultline_ledger\n WHERE run_id = \(runID);\n"
        }
        return md + codeBlock(q, language: "sql", indent: "")
    }

    // MARK: - Helpers

    /// One scenario step in words, for "what this drill does".
    static func describe(_ step: Step, in s: Scenario) -> String {
        switch step {
        case .operation(.mark(let n), _): return "Mark '\(n)': name this instant T."
        case .operation(let op, let w): return capitalized(op.description) + (w.map { ", within \(DurationText.format($0))" } ?? "") + "."
        case .hold(let d): return "Keep the load running for \(DurationText.format(d))."
        case .inject(let f): return "Inject \(f)."
        case .await(let c, let w): return "Wait for \(c) (within \(DurationText.format(w)))."
        case .expect(let c, let w): return "Expect \(c) (within \(DurationText.format(w ?? s.targets.settle)))."
        case .heal: return "Heal every fault."
        }
    }

    static func targetISOFromMark(_ r: RunReport) -> String? {
        guard let ops = r.observations.operations,
              let name = ops.lazy.compactMap(\.operation.restoreTarget).first else { return nil }
        return ops.first { $0.operation == .mark(name) }?.outcome?.facts["server-time"]
    }

    /// A verdict's measured count, or why there is none.
    static func count(_ id: String, _ r: RunReport) -> String {
        guard let v = r.verdicts.first(where: { $0.id == id }) else { return "not judged" }
        let n = v.result.measured.map { "\(Int($0.value))" } ?? (v.items.isEmpty ? "unknown" : "\(v.items.count)")
        return "\(n) (\(v.result.status.rawValue))"
    }

    /// A verdict status as Markdown shows it (report.md, runbook.md, the suite's summary).
    public static func mark(_ s: VerdictResult.Status) -> String {
        switch s {
        case .passed: "✅ passed"
        case .failed: "❌ failed"
        case .skipped: "⏭ skipped"
        case .error: "⚠️ error"
        case .aborted: "🛑 aborted"
        }
    }

    /// A fenced block longer than any run of backticks in `text`, each line indented (for a list item).
    static func codeBlock(_ text: String, language: String, indent: String) -> String {
        var longest = 0, run = 0
        for ch in text { if ch == "`" { run += 1; longest = max(longest, run) } else { run = 0 } }
        let fence = String(repeating: "`", count: max(3, longest + 1))
        var body = text
        while body.hasSuffix("\n") { body.removeLast() }
        let lines = body.split(separator: "\n", omittingEmptySubsequences: false).map { indent + $0 }
        return ([indent + fence + language] + lines + [indent + fence]).joined(separator: "\n") + "\n"
    }

    /// A SQL string literal.
    static func sql(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "''") + "'" }

    static func capitalized(_ s: String) -> String { s.prefix(1).uppercased() + s.dropFirst() }

    static func m(_ s: String) -> String { SecretMasker.mask(s) }
}
