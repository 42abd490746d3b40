import Faultline

extension Render {
    /// `summary.html`: one self-contained page (the run report's CSS inline, no script, nothing fetched): the suite's
    /// outcome, a table of scenarios (statuses over their runs, flake rate) and a table of runs, each linking to its
    /// own `report.html`. Free text is masked.
    public static func suiteHTML(_ s: SuiteResult) -> String {
        func e(_ t: String) -> String { esc(t) }
        func m(_ t: String) -> String { esc(SecretMasker.mask(t)) }
        var h = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        h += "<title>Suite \(e(s.name)): \(e(s.status)) (\(e(s.suiteId)))</title>\n<style>\(css)\(suiteCSS)</style>\n</head>\n"
        h += "<body data-status=\"\(e(s.status))\" data-exit-code=\"\(s.exitCode)\">\n<header>\n"
        h += "<h1>Suite \(e(s.name)) <span class=\"badge \(statusClass(s.status))\">\(e(s.status.uppercased()))</span>"
        h += " <span class=\"exit\">exit \(s.exitCode)</span></h1>\n<dl class=\"facts\">"
        let facts: [(String, String)] = [("suite", s.suiteId), ("environment", s.environment), ("started", s.startedAt),
                                         ("took", DurationText.human(ms: s.durationMs)), ("settings", suiteSettings(s)),
                                         ("runs", "\(s.runs.count) planned, \(s.ranCount) run, \(s.notRunCount) not run")]
        for (k, v) in facts { h += "<dt>\(e(k))</dt><dd>\(e(v))</dd>" }
        h += "</dl>\n"
        if s.interrupted { h += "<p class=\"warning\">interrupted (Ctrl-C): the current run was stopped and healed; the rest did not run</p>\n" }
        h += "</header>\n"

        h += "<section id=\"scenarios\">\n<h2>Scenarios</h2>\n<table class=\"verdicts\">\n"
        h += "<thead><tr><th>Scenario</th><th>Runs</th><th>Statuses</th><th>Flake rate</th><th>Flaky</th><th>Worst exit</th></tr></thead>\n<tbody>\n"
        for x in s.scenarios {
            let cls = x.flaky ? "flaky" : (x.mostCommon.map { suiteRowClass($0) } ?? "skipped")
            h += "<tr class=\"\(cls)\" data-scenario=\"\(e(x.scenario))\"><td>\(e(x.scenario))</td><td>\(x.runs)"
                + (x.notRun > 0 ? " (+\(x.notRun) not run)" : "") + "</td><td>\(e(distributionText(x)))</td>"
                + "<td class=\"flake\">\(e(percent(x.flakeRate)))</td><td class=\"result\">\(x.flaky ? "yes" : "no")</td>"
                + "<td>\(x.worstExitCode.map { "\($0)" } ?? "")</td></tr>\n"
        }
        h += "</tbody>\n</table>\n</section>\n"

        h += "<section id=\"runs\">\n<h2>Runs</h2>\n<table class=\"verdicts\">\n"
        h += "<thead><tr><th>#</th><th>Scenario</th><th>Run</th><th>Status</th><th>Exit</th><th>Verdicts</th><th>Took</th><th>Report or why not run</th></tr></thead>\n<tbody>\n"
        for r in s.runs {
            var note = ""
            if let d = r.reportDir {
                let rel = relative(d, to: s.suiteId)
                note += "<a href=\"\(e(rel))/report.html\">\(e(rel))</a>"
            }
            if let why = r.notRun ?? r.error { note += (note.isEmpty ? "" : "<br>") + m(why) }
            h += "<tr class=\"\(suiteRowClass(r.status))\" data-position=\"\(r.position)\" data-status=\"\(e(r.status))\"><td>\(r.position)</td>"
                + "<td>\(e(r.scenario))</td><td>\(r.attempt) of \(r.attempts)</td><td class=\"result\">\(e(r.status))</td>"
                + "<td>\(r.exitCode.map { "\($0)" } ?? "")</td><td>\(e(verdictCounts(r)))</td>"
                + "<td>\(r.ran ? e(DurationText.human(ms: r.durationMs)) : "")</td><td class=\"notes\">\(note)</td></tr>\n"
        }
        h += "</tbody>\n</table>\n</section>\n"
        h += "<footer>Faultline suite summary, schema version \(s.schemaVersion). Files beside it: summary.json, summary.md, "
            + "junit.xml; each run's reports in its folder.</footer>\n</body>\n</html>\n"
        return h
    }

    /// The verdict table's row classes (`passed`, `failed`, ...) for a run's status.
    static func suiteRowClass(_ status: String) -> String {
        switch status {
        case SuiteResult.Run.notRunStatus: "skipped"
        case SuiteResult.Run.timedOut: "error"
        default: statusClass(status)
        }
    }

    static let suiteCSS = """

    tr.flaky{background:#fff8e1}tr.flaky td.result{color:#e65100;font-weight:600}td.flake{font-family:ui-monospace,"DejaVu Sans Mono",monospace}
    """
}
