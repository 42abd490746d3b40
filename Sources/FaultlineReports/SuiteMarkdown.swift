import Foundation
import Faultline

extension Render {
    /// `summary.json`: the whole suite result, pretty, keys sorted.
    public static func suiteJSON(_ s: SuiteResult) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try e.encode(s), as: UTF8.self) + "\n"
    }

    /// Reads `summary.json` back.
    public static func decodeSuite(_ json: String) throws -> SuiteResult {
        try JSONDecoder().decode(SuiteResult.self, from: Data(json.utf8))
    }

    /// `summary.md`: the suite's outcome, one row a scenario (its distribution and flake rate), one row a run.
    public static func suiteMarkdown(_ s: SuiteResult) -> String {
        var md = "# Suite \(s.name): \(s.status.uppercased()) (exit \(s.exitCode))\n\n"
        md += "- suite `\(s.suiteId)`, environment `\(s.environment)`, started \(s.startedAt), took \(DurationText.human(ms: s.durationMs))\n"
        md += "- " + suiteSettings(s) + "\n"
        md += "- runs: \(s.runs.count) planned, \(s.ranCount) run, \(s.notRunCount) not run" + (s.interrupted ? " (interrupted: Ctrl-C)" : "") + "\n\n"

        md += "## Scenarios\n\n| Scenario | Runs | Statuses | Flake rate | Flaky | Worst exit |\n|---|---|---|---|---|---|\n"
        for x in s.scenarios {
            md += "| \(cell(x.scenario)) | \(x.runs)" + (x.notRun > 0 ? " (+\(x.notRun) not run)" : "") + " | \(distributionText(x)) | "
                + "\(percent(x.flakeRate)) | \(x.flaky ? "yes" : "no") | \(x.worstExitCode.map { "\($0)" } ?? "") |\n"
        }

        md += "\n## Runs\n\n| # | Scenario | Run | Status | Exit | Verdicts | Took | Report or why not run |\n|---|---|---|---|---|---|---|---|\n"
        for r in s.runs {
            let why = r.notRun ?? r.error ?? ""
            let report = r.reportDir.map { "`\(relative($0, to: s.suiteId))`" } ?? ""
            md += "| \(r.position) | \(cell(r.scenario)) | \(r.attempt) of \(r.attempts) | \(suiteMark(r.status)) | \(r.exitCode.map { "\($0)" } ?? "") | "
                + "\(verdictCounts(r)) | \(r.ran ? DurationText.human(ms: r.durationMs) : "") | "
                + [report, cell(SecretMasker.mask(why))].filter { !$0.isEmpty }.joined(separator: " ") + " |\n"
        }
        md += "\nFiles: `summary.json`, `summary.html`, `junit.xml` (a testsuite a run); each run's own reports in its folder.\n"
        return md
    }

    /// `budget 30m, scenario timeout 10m, keep going`.
    static func suiteSettings(_ s: SuiteResult) -> String {
        "budget " + (s.budgetMs.map { DurationText.human(ms: $0) } ?? "none")
            + ", scenario timeout " + (s.scenarioTimeoutMs.map { DurationText.human(ms: $0) } ?? "none")
            + ", " + (s.keepGoing ? "keep going after a failure" : "stop at the first failure")
    }

    /// `passed 2, target-failed 1`, most common first.
    static func distributionText(_ x: SuiteResult.ScenarioSummary) -> String {
        x.distribution.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    }

    /// `3 passed, 1 skipped`, in a fixed order.
    static func verdictCounts(_ r: SuiteResult.Run) -> String {
        VerdictStatusOrder.all.compactMap { st in r.verdicts[st].map { "\($0) \(st)" } }.joined(separator: ", ")
    }

    enum VerdictStatusOrder {
        static let all = ["passed", "failed", "aborted", "error", "skipped"]
    }

    static func suiteMark(_ status: String) -> String {
        switch status {
        case "passed": "✅ passed"
        case "skipped": "⏭️ skipped"
        case "target-failed": "❌ target-failed"
        case "aborted": "🛑 aborted"
        case SuiteResult.Run.notRunStatus: "➖ not run"
        case SuiteResult.Run.timedOut: "⏱️ timed out"
        default: "⚠️ \(status)"
        }
    }

    /// A run's report folder below the suite's (`kill-primary-…`), else the path as given.
    static func relative(_ path: String, to suiteId: String) -> String {
        guard let r = path.range(of: "/\(suiteId)/") else { return path }
        return String(path[r.upperBound...])
    }
}
