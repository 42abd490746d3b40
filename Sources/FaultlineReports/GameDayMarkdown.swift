import Foundation
import Faultline

extension Render {
    /// `gameday.md`: the game day's record against its run: participants, hypotheses against outcomes, the timeline
    /// with the notes and observations at their times, the verdicts, findings and action items. Free text is masked.
    public static func gameDayMarkdown(_ g: GameDayRecord, _ r: RunReport) -> String {
        func m(_ s: String) -> String { cell(SecretMasker.mask(s)) }
        var md = "# Game day: \(r.scenario.name): \(r.status.uppercased()) (exit \(r.exitCode))\n\n"
        if !r.scenario.summary.isEmpty { md += "> \(r.scenario.summary)\n\n" }
        md += "- run `\(r.runId)`, environment `\(r.environment)`, started \(r.startedAt), took \(DurationText.human(ms: r.durationMs))\n"
        if !r.overrides.isEmpty { md += "- overrides: " + r.overrides.map { "`\(SecretMasker.mask($0))`" }.joined(separator: " ") + "\n" }
        md += "- participants: " + (g.participants.isEmpty ? "none named" : g.participants.map(m).joined(separator: ", ")) + "\n"
        md += "- the run's own report: `report.md`, `report.html`\n"

        md += "\n## Hypotheses\n\n| # | Hypothesis | Judged by | Outcome | Measured | Target | Detail |\n|---|---|---|---|---|---|---|\n"
        for (i, o) in g.outcomes(r.verdicts).enumerated() {
            md += "| H\(i + 1) | \(m(o.hypothesis.text)) | \(o.hypothesis.verdict.map { "`\($0)`" } ?? "the team") | \(outcomeMark(o.status)) "
                + "| \(o.measured ?? "") | \(o.target ?? "") | \(m(o.detail ?? "")) |\n"
        }
        if g.hypotheses.isEmpty { md += "| | none recorded | | | | | |\n" }

        md += "\n## Timeline\n\nTimes since the load started; notes and observations at the instant they were typed.\n\n"
        md += "| t | since injection | event | member | detail |\n|---|---|---|---|---|\n"
        let t0 = r.observations.injectedAtMs
        for e in GameDay.timeline(r.observations) {
            let rel = t0.map { e.atMs >= $0 ? "+" + DurationText.human(ms: e.atMs - $0) : "" } ?? ""
            let kind = e.kind == .note || e.kind == .observation ? "**\(e.kind.rawValue)**" : e.kind.rawValue
            md += "| \(DurationText.human(ms: e.atMs)) | \(rel) | \(kind) | \(e.member ?? "") | \(m(e.detail ?? "")) |\n"
        }

        md += "\n## Verdicts\n\n| Check | Result | Measured | Target | Notes |\n|---|---|---|---|---|\n"
        for v in r.verdicts {
            let res = v.result
            let measured = res.measured?.description ?? (res.status == .failed ? "never" : "")
            md += "| \(m(v.title)) | \(Runbook.mark(res.status)) | \(measured) | \(res.target.map { "≤ \($0)" } ?? "") | \(m(res.message ?? "")) |\n"
        }

        md += "\n## Findings\n\n"
        md += g.findings.isEmpty ? "None recorded.\n" : g.findings.map { "- \(SecretMasker.mask($0))\n" }.joined()
        md += "\n## Action items\n\n"
        if g.actionItems.isEmpty {
            md += "None recorded.\n"
        } else {
            md += "| Owner | Action |\n|---|---|\n"
            for a in g.actionItems { md += "| \(a.owner.isEmpty ? "unassigned" : m(a.owner)) | \(m(a.text)) |\n" }
        }
        md += "\nFiles: `gameday.json`, `gameday.html`, and the run's `report.json`, `report.md`, `report.html`, `timeline.jsonl`.\n"
        return md
    }

    static func outcomeMark(_ s: HypothesisOutcome.Status) -> String {
        switch s {
        case .passed: "✅ passed"
        case .failed: "❌ failed"
        case .skipped: "⏭ skipped"
        case .error: "⚠️ error"
        case .aborted: "🛑 aborted"
        case .held: "✅ held"
        case .notHeld: "❌ did not hold"
        case .notJudged: "– not judged"
        }
    }

    /// `gameday.json`: the record as written, pretty, keys sorted.
    public static func gameDayJSON(_ g: GameDayRecord) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try e.encode(g), as: UTF8.self) + "\n"
    }
}

extension ReportWriter {
    /// Writes gameday.md, gameday.html and gameday.json into `dir` (the run's report directory, beside report.md).
    public static func writeGameDay(_ g: GameDayRecord, _ report: RunReport, into dir: URL) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let files = [("gameday.md", Render.gameDayMarkdown(g, report)), ("gameday.html", Render.gameDayHTML(g, report)),
                     ("gameday.json", try Render.gameDayJSON(g))]
        for (name, text) in files {
            try Data(text.utf8).write(to: dir.appendingPathComponent(name), options: .atomic)
        }
    }
}
