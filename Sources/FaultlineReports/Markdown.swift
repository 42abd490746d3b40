import Faultline

extension Render {
    /// `report.md`: a human summary: the verdict table, the recovery breakdown, writes, the timeline.
    public static func markdown(_ r: RunReport) -> String {
        let s = r.scenario
        var md = "# \(s.name): \(r.status.uppercased()) (exit \(r.exitCode))\n\n"
        if !s.summary.isEmpty { md += "> \(s.summary)\n\n" }
        md += "- run `\(r.runId)`, environment `\(r.environment)`, started \(r.startedAt), took \(DurationText.human(ms: r.durationMs))\n"
        if !r.overrides.isEmpty { md += "- overrides: " + r.overrides.map { "`\(SecretMasker.mask($0))`" }.joined(separator: " ") + "\n" }
        md += "- load: " + s.workloads.map(\.description).joined(separator: ", ") + "\n\n"

        md += "## Verdicts\n\n| Check | Result | Measured | Target | Notes |\n|---|---|---|---|---|\n"
        for v in r.verdicts {
            let res = v.result
            let mark = Runbook.mark(res.status)
            let measured = res.measured?.description ?? (res.status == .failed ? "never" : "")
            let target = res.target.map { "≤ \($0)" } ?? ""
            let notes = ([res.message].compactMap { $0 } + v.notes).map(cell).joined(separator: "<br>")
            md += "| \(cell(v.title)) | \(mark) | \(measured) | \(target) | \(notes) |\n"
        }

        let obs = r.observations
        md += "\n## Writes\n\n"
        md += "- acknowledged: \(obs.load.acked.count)\n"
        md += "- indeterminate (COMMIT unanswered, neither lost nor safe): \(obs.load.indeterminate.count)\n"
        if let rb = obs.readBack {
            if let e = rb.error { md += "- read-back failed: \(cell(e))\n" } else {
                let lost = r.verdicts.first { $0.id == "lost-writes" }?.items ?? []
                md += "- read back: \(rb.checked), lost: \(lost.count)" + (lost.isEmpty ? "" : " (`" + lost.prefix(50).joined(separator: "`, `") + "`" + (lost.count > 50 ? ", … see ledger.jsonl" : "") + ")")
                    + ((rb.attempts ?? 1) > 1 ? " (on attempt \(rb.attempts!): the cluster refused the read or changed hands before)" : "") + "\n"
            }
            if let ms = rb.members {
                md += "- read on every member that answered" + (rb.membersBecause.map { " (\(cell($0)))" } ?? "") + ": "
                    + ms.map { m in "\(m.member) " + (m.error.map { "did not answer: \(cell($0))" } ?? "\(m.missing ?? 0) missing") }
                        .joined(separator: ", ") + "\n"
            }
        } else {
            md += "- not read back\n"
        }

        if let rec = r.recovery {
            md += "\n## Recovery (since injection at \(DurationText.human(ms: rec.injectedAtMs)) after load start)\n\n"
            func row(_ label: String, _ ms: Int?) { md += "| \(label) | \(ms.map { "+" + DurationText.human(ms: $0) } ?? "not seen") |\n" }
            md += "| Step | At |\n|---|---|\n"
            row("first write error", rec.outageStartMs)
            row("detection: old leader gone", rec.detectionMs)
            row("promotion: new leader seen", rec.promotionMs)
            row(rec.hasProbe ? "routing: first probe write after promotion" : "routing: first write after promotion",
                rec.firstWriteAfterPromotionMs)
            if let interval = rec.probeIntervalMs {
                row("service restored: sustained probe writes (every \(DurationText.human(ms: interval)), no backoff)", rec.serviceRestoredMs)
            }
            row("application recovered: sustained workload writes", rec.recoveryMs)
        }

        md += "\n## Timeline\n\n| t | since injection | event | member | detail |\n|---|---|---|---|---|\n"
        let t0 = obs.injectedAtMs
        for e in obs.events {
            let rel = t0.map { e.atMs >= $0 ? "+" + DurationText.human(ms: e.atMs - $0) : "" } ?? ""
            md += "| \(DurationText.human(ms: e.atMs)) | \(rel) | \(e.kind.rawValue) | \(e.member ?? "") | \(cell(SecretMasker.mask(e.detail ?? ""))) |\n"
        }
        if let b = obs.topologyBefore { md += "\nTopology before: `\(b.summary)`  \n" }
        if let a = obs.topologyAfter { md += "Topology after: `\(a.summary)`\n" }
        md += "\nFiles: `report.json`, `junit.xml`, `timeline.jsonl`, `ledger.jsonl`, `commands.log`.\n"
        return md
    }

    /// Makes text safe for one Markdown table cell.
    static func cell(_ s: String) -> String {
        s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }
}
