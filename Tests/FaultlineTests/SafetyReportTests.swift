import Testing
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import Faultline
@testable import FaultlineReports

@Suite("Report renderers: an aborted run")
struct SafetyReportTests {
    /// A run the steady state stopped: no fault, the writes read back, every other verdict skipped.
    func abortedReport() -> RunReport {
        var obs = Observations(events: [TimelineEvent(atMs: 0, kind: .loadStarted)], load: Fixture.writes(until: 10_000) { _ in false })
        obs.readBack = ReadBack(checked: obs.load.acked.count, missing: [])
        obs.steadyState = SteadyStateResult(hypothesis: .standard, ok: 900, errors: 100, p99Us: 3_000, healthProblems: [])
        obs.safetyAbort = SafetyAbort(cause: .steadyState, atMs: 10_000, reason: "steady state not met: error rate 10 % (100 of 1000) > 1 %",
                                      afterInjection: false)
        obs.loadStoppedAtMs = 10_000
        return RunReport(runId: "kill-primary-1", scenario: killPrimary, overrides: [], environment: "local",
                         startedAt: "2026-12-02T01:00:00Z", durationMs: 12_000, observations: obs, judgement: Judgement(killPrimary, obs))
    }

    @Test func aHarnessErrorStillWinsOverTheAbort() {
        var obs = abortedReport().observations
        obs.harnessErrors = ["load: connection pool exhausted"]
        let vs = Assertions.evaluate(killPrimary, obs)
        #expect(vs.first { $0.id == "harness" }?.result.status == .error)
        #expect(ExitStatus.of(vs) == .harnessError)
    }

    @Test func theReportIsAborted() {
        let r = abortedReport()
        #expect(r.status == "aborted")
        #expect(r.exitCode == 7)
    }

    @Test func junitRendersAnAbortAsAFailureOfItsOwnType() throws {
        let r = abortedReport()
        let doc = try XMLDocument(data: Data(Render.junit(r).utf8))
        let steady = try #require(try doc.nodes(forXPath: "//testcase[@name='steady-state']").first as? XMLElement)
        let failure = try #require(steady.elements(forName: "failure").first)
        #expect(failure.attribute(forName: "type")?.stringValue == "aborted")
        #expect(failure.attribute(forName: "message")?.stringValue?.hasPrefix("aborted: steady state not met, no fault injected") == true)
        #expect(steady.elements(forName: "error").isEmpty)
        let props = try doc.nodes(forXPath: "//testsuite/properties/property") as! [XMLElement]
        let byName = Dictionary(props.map { ($0.attribute(forName: "name")!.stringValue!, $0.attribute(forName: "value")!.stringValue!) },
                                uniquingKeysWith: { a, _ in a })
        #expect(byName["status"] == "aborted")
        #expect(byName["exit-code"] == "7")
        let suite = try #require(try doc.nodes(forXPath: "//testsuite").first as? XMLElement)
        let aborted = r.verdicts.filter { $0.result.status == .aborted }.count
        #expect(aborted == 1)
        #expect(suite.attribute(forName: "failures")?.stringValue == "\(aborted + r.verdicts.filter { $0.result.status == .failed }.count)")
        #expect(suite.attribute(forName: "errors")?.stringValue == "0")
    }

    @Test func markdownShowsTheAbort() {
        let md = Render.markdown(abortedReport())
        #expect(md.hasPrefix("# kill-primary: ABORTED (exit 7)"), "\(md.prefix(80))")
        #expect(md.contains("| Steady-state hypothesis (before the fault) | 🛑 aborted |"), "\(md)")
        #expect(md.contains("⏭ skipped"))
    }
}
