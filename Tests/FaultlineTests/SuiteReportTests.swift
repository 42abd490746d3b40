import Foundation
import Testing
#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import Faultline
@testable import FaultlineReports
import Scenarios

@Suite("Suite reports: JUnit, Markdown, HTML, JSON")
struct SuiteReportTests {
    static func report(_ runId: String, _ verdicts: [Verdict], scenario: Scenario = killPrimary) -> RunReport {
        RunReport(runId: runId, scenario: scenario, overrides: ["steady=5s"], environment: "local", startedAt: "2026-12-01T02:00:00Z",
                  durationMs: 61_500, observations: Observations(), judgement: Judgement(verdicts: verdicts, recovery: nil))
    }

    static let first = report("kill-primary-20261201-020000Z-1", [
        Verdict(id: "rto", title: "RTO", result: .passed(measured: .ms(9_000), target: .ms(30_000))),
        Verdict(id: "netem", title: "Netem", result: .skipped(reason: "no netem in this kernel")),
        Verdict(id: "probe", title: "Probe", result: .error("probe failed: password=hunter2")),
    ])
    static let second = report("switchover-20261201-020200Z-2", [
        Verdict(id: "steady-state", title: "Steady state", result: .aborted("steady state not met: error rate 5 %")),
        Verdict(id: "lost-writes", title: "Lost writes", result: .failed(measured: .count(2), target: .count(0), why: "2 lost")),
    ], scenario: switchover)

    /// Five planned runs: two with reports, a timeout, a failed heal, one not run.
    static func suite() -> (SuiteResult, [Int: RunReport]) {
        let e1 = SuitePlan.Entry(scenario: "kill-primary", overrides: ["steady=5s"], attempt: 1, attempts: 2)
        let e2 = SuitePlan.Entry(scenario: "switchover", overrides: ["steady=5s"])
        let e3 = SuitePlan.Entry(scenario: "kill-postgres")
        let e4 = SuitePlan.Entry(scenario: "kill-primary", overrides: ["steady=5s"], attempt: 2, attempts: 2)
        let e5 = SuitePlan.Entry(scenario: "fill-disk")
        let plan = SuitePlan(name: "nightly", entries: [e1, e2, e3, e4, e5], budget: .seconds(1_800), scenarioTimeout: .seconds(600), keepGoing: true)
        let root = "/r/nightly-20261201-020000Z"
        let runs: [SuiteResult.Run] = [
            .completed(position: 1, entry: e1, report: first, reportDir: "\(root)/\(first.runId)", reportError: nil),
            .completed(position: 2, entry: e2, report: second, reportDir: "\(root)/\(second.runId)", reportError: nil),
            .timedOut(position: 3, entry: e3, after: .seconds(600), durationMs: 601_000, runId: "kill-postgres-x-3", reportDir: "\(root)/kill-postgres-x-3"),
            .harnessError(position: 4, entry: e4, "the heal before this run failed: token=s3cret", durationMs: 80_000),
            .notRun(position: 5, entry: e5, "budget exhausted: 10.0 s of 30m left, fill-disk needs at least 1 m 0 s"),
        ]
        let timedOutReport = report("kill-postgres-x-3", [Verdict(id: "rto", title: "RTO", result: .failed(measured: nil, target: .ms(1), why: "never"))])
        let r = SuiteResult(suiteId: "nightly-20261201-020000Z", plan: plan, environment: "local", startedAt: "2026-12-01T02:00:00Z",
                            durationMs: 1_790_000, runs: runs)
        return (r, [1: first, 2: second, 3: timedOutReport])
    }

    func attr(_ e: XMLElement, _ n: String) -> String? { e.attribute(forName: n)?.stringValue }

    @Test func junitHasATestsuiteARunAndATestcaseAVerdictWithTheRightChild() throws {
        let (s, reports) = Self.suite()
        let doc = try XMLDocument(data: Data(Render.suiteJUnit(s, reports: reports).utf8))
        let suites = try doc.nodes(forXPath: "/testsuites/testsuite") as! [XMLElement]
        #expect(suites.count == 5)
        #expect(suites.map { attr($0, "name") } == ["kill-primary (run 1 of 2)", "switchover", "kill-postgres", "kill-primary (run 2 of 2)", "fill-disk"])

        // Run 1: one testcase a verdict: passed, <skipped> with its reason, <error> (a harness error, never a failure).
        let c1 = suites[0].elements(forName: "testcase")
        #expect(c1.map { attr($0, "name") } == ["rto", "netem", "probe"])
        #expect(c1[0].children?.compactMap(\.name) == ["system-out"])
        #expect(attr(try #require(c1[1].elements(forName: "skipped").first), "message") == "no netem in this kernel")
        #expect(c1[2].elements(forName: "failure").isEmpty)
        #expect(attr(try #require(c1[2].elements(forName: "error").first), "type") == "harness-error")
        #expect([attr(suites[0], "tests"), attr(suites[0], "failures"), attr(suites[0], "errors"), attr(suites[0], "skipped")] == ["3", "0", "1", "1"])

        // Run 2: aborted is a failure of type aborted; a failed target a failure of type target-failed.
        let c2 = suites[1].elements(forName: "testcase")
        #expect(c2.compactMap { $0.elements(forName: "failure").first.flatMap { attr($0, "type") } } == ["aborted", "target-failed"])
        #expect(attr(suites[1], "failures") == "2" && attr(suites[1], "errors") == "0")

        // Run 3 timed out: one testcase, <error type="timeout">, its stopped run's verdicts not judged here.
        let c3 = suites[2].elements(forName: "testcase")
        #expect(c3.count == 1 && attr(c3[0], "name") == "timeout")
        let timeout = try #require(c3[0].elements(forName: "error").first)
        #expect(attr(timeout, "type") == "timeout" && attr(timeout, "message")?.contains("10m") == true)
        #expect(attr(suites[2], "errors") == "1" && attr(suites[2], "failures") == "0")

        // Run 4: the heal before it failed: a harness error, masked.
        let c4 = suites[3].elements(forName: "testcase")
        let heal = try #require(c4.first?.elements(forName: "error").first)
        #expect(attr(heal, "type") == "harness-error" && attr(heal, "message")?.contains("s3cret") == false)

        // Run 5 not run: one <skipped message="..."> testcase.
        let c5 = suites[4].elements(forName: "testcase")
        #expect(c5.count == 1 && attr(c5[0], "name") == "not-run")
        #expect(attr(try #require(c5[0].elements(forName: "skipped").first), "message")?.hasPrefix("budget exhausted") == true)

        let top = try #require(doc.rootElement())
        #expect(attr(top, "name") == "faultline suite nightly")
        #expect([attr(top, "tests"), attr(top, "failures"), attr(top, "errors"), attr(top, "skipped")] == ["8", "2", "3", "2"])
        #expect(attr(top, "time") == "1790.000")
        let xml = Render.suiteJUnit(s, reports: reports)
        #expect(!xml.contains("hunter2") && !xml.contains("s3cret"))
    }

    @Test func aRunsTestsuiteIsRenderedAsInItsOwnJUnitFile() throws {
        let own = try XMLDocument(data: Data(Render.junit(Self.first).utf8))
        let (s, reports) = Self.suite()
        let doc = try XMLDocument(data: Data(Render.suiteJUnit(s, reports: reports).utf8))
        let inOwn = try own.nodes(forXPath: "//testcase").map(\.xmlString)
        let inSuite = try doc.nodes(forXPath: "/testsuites/testsuite[1]/testcase").map(\.xmlString)
        #expect(inOwn == inSuite && inOwn.count == 3)
        // The single-run file is unchanged: its testsuite is the shared fragment, wrapped once.
        let single = Render.junit(Self.first)
        #expect(single.hasPrefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"faultline\" tests=\"3\" failures=\"0\" errors=\"1\" skipped=\"1\" time=\"61.500\">\n  <testsuite name=\"kill-primary\" "))
        #expect(single == "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"faultline\" tests=\"3\" failures=\"0\" errors=\"1\" skipped=\"1\" time=\"61.500\">\n"
                + Render.junitSuite(Self.first) + "</testsuites>\n")
        let props = try doc.nodes(forXPath: "/testsuites/testsuite[1]/properties/property") as! [XMLElement]
        #expect(props.contains { attr($0, "name") == "attempt" && attr($0, "value") == "1 of 2" })
        #expect(props.contains { attr($0, "name") == "report-dir" && attr($0, "value")?.hasSuffix(Self.first.runId) == true })
    }

    @Test func jsonRoundTripsWithRunsAndScenarios() throws {
        let (s, _) = Self.suite()
        let json = try Render.suiteJSON(s)
        #expect(try Render.decodeSuite(json) == s)
        let top = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        for key in ["schemaVersion", "suiteId", "name", "environment", "startedAt", "durationMs", "budgetMs", "scenarioTimeoutMs",
                    "keepGoing", "interrupted", "runs", "scenarios", "exitCode", "status"] {
            #expect(top[key] != nil, "missing \(key)")
        }
        #expect(top["exitCode"] as? Int == 3 && top["status"] as? String == "harness-error")
        let runs = try #require(top["runs"] as? [[String: Any]])
        #expect(runs.map { $0["status"] as? String } == ["harness-error", "aborted", "timed-out", "harness-error", "not-run"])
        #expect((runs[0]["verdicts"] as? [String: Int]) == ["passed": 1, "skipped": 1, "error": 1])
        #expect(runs[4]["exitCode"] == nil && (runs[4]["notRun"] as? String)?.hasPrefix("budget exhausted") == true)
        let kp = try #require((top["scenarios"] as? [[String: Any]])?.first { $0["scenario"] as? String == "kill-primary" })
        #expect(kp["runs"] as? Int == 2 && kp["flaky"] as? Bool == false && (kp["flakeRate"] as? NSNumber)?.doubleValue == 0)
        #expect(!json.contains("s3cret"))
    }

    @Test func markdownShowsScenariosAndRuns() {
        var (s, _) = Self.suite()
        let md = Render.suiteMarkdown(s)
        #expect(md.hasPrefix("# Suite nightly: HARNESS-ERROR (exit 3)\n"))
        #expect(md.contains("budget 30 m 0 s, scenario timeout 10 m 0 s, keep going after a failure"))
        #expect(md.contains("- runs: 5 planned, 4 run, 1 not run\n"))
        #expect(md.contains("| kill-primary | 2 | harness-error 2 | 0 % | no | 3 |"))
        #expect(md.contains("| 2 | switchover | 1 of 1 | 🛑 aborted | 7 | 1 failed, 1 aborted | 1 m 1 s | `switchover-20261201-020200Z-2` |"))
        #expect(md.contains("| 3 | kill-postgres | 1 of 1 | ⏱️ timed out | 3 |"))
        #expect(md.contains("| 5 | fill-disk | 1 of 1 | ➖ not run |  |  |  | budget exhausted"))
        #expect(!md.contains("s3cret"))
        // A flaky scenario: two statuses over its runs.
        s = SuiteResult(suiteId: s.suiteId, plan: SuitePlan(entries: []), environment: "local", startedAt: "t", durationMs: 1,
                        runs: [s.runs[1], .completed(position: 6, entry: SuitePlan.Entry(scenario: "switchover", attempt: 2, attempts: 2),
                                                     report: Self.report("sw-2", [Verdict(id: "rto", title: "RTO", result: .passed(measured: .ms(1), target: .ms(2)))], scenario: switchover),
                                                     reportDir: nil, reportError: nil)])
        #expect(Render.suiteMarkdown(s).contains("| switchover | 2 | aborted 1, passed 1 | 50 % | yes | 7 |"))
    }

    @Test func htmlIsSelfContainedWithAScenarioTableAndRunLinks() {
        let (s, _) = Self.suite()
        let html = Render.suiteHTML(s)
        #expect(html.hasPrefix("<!DOCTYPE html>") && html.hasSuffix("</html>\n"))
        #expect(html.contains("data-status=\"harness-error\" data-exit-code=\"3\""))
        #expect(html.contains("<tr class=\"skipped\" data-position=\"5\" data-status=\"not-run\">"))
        #expect(html.contains("<tr class=\"error\" data-position=\"3\" data-status=\"timed-out\">"))
        #expect(html.contains("<a href=\"kill-primary-20261201-020000Z-1/report.html\">"))
        #expect(html.contains("data-scenario=\"kill-primary\""))
        #expect(!html.contains("<script") && !html.contains("http://") && !html.contains("https://"))
        #expect(!html.contains("s3cret"))
    }
}
