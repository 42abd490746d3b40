import Foundation
import Faultline

extension Render {
    /// `gameday.html`: `gameday.md` as one self-contained page (inline CSS, report.html's style; no script, nothing
    /// fetched). Free text is escaped and masked.
    public static func gameDayHTML(_ g: GameDayRecord, _ r: RunReport) -> String {
        func e(_ s: String) -> String { esc(s) }
        func m(_ s: String) -> String { esc(SecretMasker.mask(s)) }
        let status = ["passed": "passed", "target-failed": "failed", "skipped": "skipped", "aborted": "aborted"][r.status] ?? "error"
        var h = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        h += "<title>Game day: \(e(r.scenario.name)): \(e(r.status)) (\(e(r.runId)))</title>\n<style>\(css)\(gameDayCSS)</style>\n</head>\n"
        h += "<body data-status=\"\(e(r.status))\" data-exit-code=\"\(r.exitCode)\">\n<header>\n"
        h += "<h1>Game day: \(e(r.scenario.name)) <span class=\"badge \(status)\">\(e(r.status.uppercased()))</span>"
        h += " <span class=\"exit\">exit \(r.exitCode)</span></h1>\n"
        if !r.scenario.summary.isEmpty { h += "<p class=\"summary\">\(e(r.scenario.summary))</p>\n" }
        var facts: [(String, String)] = [("run", r.runId), ("environment", r.environment), ("started", r.startedAt),
                                         ("took", DurationText.human(ms: r.durationMs)),
                                         ("participants", g.participants.isEmpty ? "none named" : g.participants.joined(separator: ", "))]
        if !r.overrides.isEmpty { facts.append(("overrides", r.overrides.joined(separator: " "))) }
        h += "<dl class=\"facts\">" + facts.map { "<dt>\(e($0.0))</dt><dd>\(m($0.1))</dd>" }.joined() + "</dl>\n"
        h += "<p class=\"hint\">The run's own report: <a href=\"report.html\">report.html</a>.</p>\n</header>\n"

        h += "<section id=\"hypotheses\">\n<h2>Hypotheses</h2>\n<table class=\"verdicts\">\n"
        h += "<thead><tr><th>#</th><th>Hypothesis</th><th>Judged by</th><th>Outcome</th><th>Measured</th><th>Target</th><th>Detail</th></tr></thead>\n<tbody>\n"
        if g.hypotheses.isEmpty { h += "<tr><td colspan=\"7\">none recorded</td></tr>\n" }
        for (i, o) in g.outcomes(r.verdicts).enumerated() {
            h += "<tr class=\"\(o.status.rawValue)\"\(o.hypothesis.verdict.map { " data-verdict=\"\(e($0))\"" } ?? "")><td>H\(i + 1)</td>"
            h += "<td>\(m(o.hypothesis.text))</td><td>\(o.hypothesis.verdict.map { "<code>\(e($0))</code>" } ?? "the team")</td>"
            h += "<td class=\"result\">\(e(outcomeMark(o.status)))</td><td>\(e(o.measured ?? ""))</td><td>\(e(o.target ?? ""))</td>"
            h += "<td class=\"notes\">\(m(o.detail ?? ""))</td></tr>\n"
        }
        h += "</tbody>\n</table>\n</section>\n"

        let t0 = r.observations.injectedAtMs
        h += "<section id=\"timeline\">\n<h2>Timeline</h2>\n<p class=\"hint\">Seconds since the load started; notes and "
            + "observations at the instant they were typed.</p>\n"
        h += "<table class=\"small\"><thead><tr><th>t</th><th>since injection</th><th>event</th><th>member</th><th>detail</th></tr></thead><tbody>\n"
        for ev in GameDay.timeline(r.observations) {
            let rel = t0.map { ev.atMs >= $0 ? "+" + DurationText.human(ms: ev.atMs - $0) : "" } ?? ""
            h += "<tr class=\"ev-\(ev.kind.rawValue)\"><td>\(e(DurationText.human(ms: ev.atMs)))</td><td>\(e(rel))</td>"
            h += "<td>\(ev.kind.rawValue)</td><td>\(e(ev.member ?? ""))</td><td>\(m(ev.detail ?? ""))</td></tr>\n"
        }
        h += "</tbody></table>\n</section>\n"

        h += "<section id=\"verdicts\">\n<h2>Verdicts</h2>\n<table class=\"verdicts\">\n"
        h += "<thead><tr><th>Check</th><th>Result</th><th>Measured</th><th>Target</th><th>Notes</th></tr></thead>\n<tbody>\n"
        for v in r.verdicts {
            let res = v.result
            let measured = res.measured?.description ?? (res.status == .failed ? "never" : "")
            h += "<tr class=\"\(res.status.rawValue)\" data-verdict=\"\(e(v.id))\"><td>\(e(v.title))</td>"
            h += "<td class=\"result\">\(res.status.rawValue)</td><td>\(e(measured))</td>"
            h += "<td>\(e(res.target.map { "≤ \($0)" } ?? ""))</td><td class=\"notes\">\(m(res.message ?? ""))</td></tr>\n"
        }
        h += "</tbody>\n</table>\n</section>\n"

        h += "<section id=\"findings\">\n<h2>Findings</h2>\n"
        h += g.findings.isEmpty ? "<p class=\"none\">None recorded.</p>\n"
            : "<ul>\n" + g.findings.map { "<li>\(m($0))</li>\n" }.joined() + "</ul>\n"
        h += "</section>\n<section id=\"actions\">\n<h2>Action items</h2>\n"
        if g.actionItems.isEmpty {
            h += "<p class=\"none\">None recorded.</p>\n"
        } else {
            h += "<table class=\"small\"><thead><tr><th>Owner</th><th>Action</th></tr></thead><tbody>\n"
            for a in g.actionItems { h += "<tr><td>\(a.owner.isEmpty ? "unassigned" : m(a.owner))</td><td>\(m(a.text))</td></tr>\n" }
            h += "</tbody></table>\n"
        }
        h += "</section>\n<footer>Faultline game day. Files beside it: gameday.md, gameday.json, report.html, report.md, report.json.</footer>\n"
        return h + "</body>\n</html>\n"
    }

    /// What the game-day page adds to report.html's style: the notes stand out in the timeline, the team's outcomes.
    static let gameDayCSS = """
    tr.ev-note,tr.ev-observation{background:#fff8e1;font-weight:600}tr.ev-aborted{background:#fff3e0}
    tr.held td.result{color:#2e7d32;font-weight:600}tr.not-held td.result{color:#c62828;font-weight:600}tr.not-judged td.result{color:#757575}
    .hint{color:#666;font-size:13px}code{font-size:12px}
    """
}
