import Faultline

extension Render {
    /// The suite's one `junit.xml`: a `<testsuite>` per planned run, rendered for a run with a report by the same code as
    /// its own `junit.xml` (`junitSuite`: one testcase per verdict). A run without verdicts is a testsuite of one testcase:
    /// timed out → `<error type="timeout">`, a harness error (the heal before it failed) → `<error type="harness-error">`,
    /// not run (budget exhausted, stopped at the first failure, interrupted) → `<skipped message="...">`.
    /// `reports` holds the report of each run that has one, by its position.
    public static func suiteJUnit(_ s: SuiteResult, reports: [Int: RunReport]) -> String {
        var total = JUnitCounts()
        var body = ""
        for run in s.runs {
            var props: [(String, String)] = [("position", "\(run.position)"), ("attempt", "\(run.attempt) of \(run.attempts)")]
            if let d = run.reportDir { props.append(("report-dir", d)) }
            if let r = reports[run.position], !run.isTimeout, run.ran {
                let errors = run.error.map { [(name: "harness", message: $0)] } ?? []
                body += junitSuite(r, name: run.label, properties: props, errors: errors)
                var c = JUnitCounts(r.verdicts)
                c.tests += errors.count
                c.errors += errors.count
                total = total + c
                continue
            }
            let caseName: String, child: String
            var c = JUnitCounts()
            c.tests = 1
            if run.isTimeout {
                caseName = "timeout"
                child = "<error type=\"timeout\" message=\"\(esc(SecretMasker.mask(run.error ?? "timed out")))\"/>"
                c.errors = 1
            } else if run.ran {
                caseName = "harness"
                child = "<error type=\"harness-error\" message=\"\(esc(SecretMasker.mask(run.error ?? run.status)))\"/>"
                c.errors = 1
            } else {
                caseName = "not-run"
                child = "<skipped message=\"\(esc(SecretMasker.mask(run.notRun ?? "not run")))\"/>"
                c.skipped = 1
            }
            total = total + c
            props = [("status", run.status)] + (run.exitCode.map { [("exit-code", "\($0)")] } ?? []) + (run.runId.map { [("run-id", $0)] } ?? [])
                + run.overrides.map { ("set", $0) } + props
            body += "  <testsuite name=\"\(esc(run.label))\" \(c.attributes) time=\"\(seconds(run.durationMs))\">\n    <properties>\n"
            for (k, v) in props { body += "      <property name=\"\(esc(k))\" value=\"\(esc(SecretMasker.mask(v)))\"/>\n" }
            body += "    </properties>\n"
            body += "    <testcase classname=\"faultline.\(esc(run.scenario))\" name=\"\(caseName)\">\n      \(child)\n    </testcase>\n  </testsuite>\n"
        }
        var x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        x += "<testsuites name=\"faultline suite \(esc(s.name))\" \(total.attributes) time=\"\(seconds(s.durationMs))\">\n"
        return x + body + "</testsuites>\n"
    }
}
