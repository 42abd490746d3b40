import Testing
import Foundation
@testable import Faultline
@testable import FaultlineReports
import Scenarios

@Suite("RTO report across runs, and reading reports back")
struct RTOReportTests {
    @Test func medianAndNearestRankP95() {
        #expect(RTOReport.median([]) == nil)
        #expect(RTOReport.median([5]) == 5)
        #expect(RTOReport.median([9, 1, 5]) == 5)
        #expect(RTOReport.median([4, 1, 3, 2]) == 2.5)
        let twenty = Array(1...20)
        #expect(RTOReport.percentile(twenty, 0.95) == 19, "nearest rank: ceil(0.95 * 20) = 19th")
        #expect(RTOReport.percentile(Array(1...21), 0.95) == 20)
        #expect(RTOReport.percentile([7, 3], 0.95) == 7)
        #expect(RTOReport.percentile([], 0.95) == nil)
        #expect(RTOReport.spread([3_000, 1_000, 2_000]) == RTOReport.Spread(min: 1_000, median: 2_000, p95: 3_000, max: 3_000))
    }

    @Test func aggregatesPerScenario() throws {
        let a = htmlFixtureReport(runId: "kill-primary-a", startedAt: "2026-11-26T10:00:00Z")
        let b = htmlFixtureReport(lost: ["w1-3"], runId: "kill-primary-b", startedAt: "2026-11-25T10:00:00Z")
        let c = htmlFixtureReport(Fixture.neverRecovers(), runId: "kill-primary-c", startedAt: "2026-11-27T10:00:00Z")
        var other = htmlFixtureReport(runId: "switchover-a")
        other.scenario.name = "switchover"
        let r = RTOReport([a, b, c, other, a])
        #expect(r.reports == 4, "the same run twice counts once")
        #expect(r.scenarios.map(\.scenario) == ["kill-primary", "switchover"])
        let kp = r.scenarios[0]
        #expect(kp.runs == 3 && kp.series.map(\.runId) == ["kill-primary-b", "kill-primary-a", "kill-primary-c"], "oldest first")
        #expect(kp.passed == [a, b, c].filter { $0.status == "passed" }.count)
        #expect(kp.measured == 2, "the run that never recovered has no RTO")
        let rto = try #require(a.verdicts.first { $0.id == "rto" }?.result.measured?.value)
        #expect(kp.rto == RTOReport.Spread(min: Int(rto), median: rto, p95: Int(rto), max: Int(rto)))
        #expect(kp.medianDetectionMs == Double(a.recovery!.detectionMs!))
        #expect(kp.medianPromotionMs == Double(a.recovery!.promotionMs!))
        #expect(kp.lostWrites == 1)
        #expect(kp.indeterminateWrites == 3)
        let md = Render.rtoMarkdown(r)
        #expect(md.contains("| `kill-primary` | 3 |") && md.contains("(2 measured)"))
        let html = Render.rtoHTML(r)
        #expect(html.contains("id=\"hist-0\"") && html.contains("id=\"trend-0\"") && html.contains("class=\"series bar\""))
        #expect(HTMLReportTests.externalReferences(html).isEmpty)
        let back = try JSONDecoder().decode(RTOReport.self, from: Data(try Render.rtoJSON(r).utf8))
        #expect(back == r)
    }

    @Test func histogramBinsCoverEveryValue() {
        let bins = Render.histogramBins([19_900, 20_900, 24_000, 20_100, 21_500])
        #expect(bins.reduce(0) { $0 + $1.count } == 5)
        #expect(bins.first!.fromMs <= 19_900 && bins.last!.fromMs <= 24_000)
        #expect(Render.histogramBins([]).isEmpty)
        #expect(Render.histogramBins([5_000]).map(\.count) == [1])
    }

    // MARK: - Bad input

    func tempDir() throws -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("fl-rto-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d
    }

    @Test func aFolderWithNoReports() throws {
        let d = try tempDir()
        defer { try? FileManager.default.removeItem(at: d) }
        try FileManager.default.createDirectory(at: d.appendingPathComponent("empty/run"), withIntermediateDirectories: true)
        #expect(throws: ReportInputError.noReports(d.path)) { try ReportReader.reportFiles([d.path]) }
        #expect(ReportInputError.noReports(d.path).description == "no report.json under \(d.path)")
        #expect(throws: ReportInputError.notFound("/nonexistent/x")) { try ReportReader.reportFiles(["/nonexistent/x"]) }
    }

    @Test func findsReportsInNestedFolders() throws {
        let d = try tempDir()
        defer { try? FileManager.default.removeItem(at: d) }
        for sub in ["kill-primary/1/kill-primary-a", "kill-primary/2/kill-primary-b"] {
            let run = d.appendingPathComponent(sub)
            try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
            try Data(try Render.json(htmlFixtureReport(runId: run.lastPathComponent)).utf8).write(to: run.appendingPathComponent("report.json"))
        }
        let files = try ReportReader.reportFiles([d.path])
        #expect(files.map { $0.deletingLastPathComponent().lastPathComponent } == ["kill-primary-a", "kill-primary-b"])
        #expect(try files.map(ReportReader.report(at:)).map(\.runId) == ["kill-primary-a", "kill-primary-b"])
    }

    @Test func anUnknownSchemaVersion() throws {
        var json = try Render.json(htmlFixtureReport())
        json = json.replacingOccurrences(of: "\"schemaVersion\" : 1", with: "\"schemaVersion\" : 7")
        #expect(throws: ReportInputError.unknownSchema(path: "r/report.json", version: 7)) {
            try ReportReader.report(data: Data(json.utf8), path: "r/report.json")
        }
        let text = ReportInputError.unknownSchema(path: "r/report.json", version: 7).description
        #expect(text == "r/report.json: report schema version 7 is not known (this faultline reads version 1)")
        #expect(throws: ReportInputError.self) { try ReportReader.report(data: Data("{\"runId\": ".utf8), path: "r/report.json") }
    }

    @Test func aTruncatedTimelineNamesFileAndLine() throws {
        let r = htmlFixtureReport()
        let text = try Render.timelineLines(r)
        let back = try ReportReader.timeline(text: text, path: "t.jsonl")
        func key(_ w: TimelineWindow) -> String { "\(w.startMs) \(w.workload)" }
        #expect(back.events.count == r.observations.events.count)
        #expect(back.windows.sorted { key($0) < key($1) } == r.observations.load.windows.sorted { key($0) < key($1) })
        let lines = text.split(separator: "\n")
        let cut = lines.prefix(40).joined(separator: "\n") + "\n" + lines[40].prefix(25)
        #expect(throws: ReportInputError.truncatedTimeline(path: "t.jsonl", line: 41)) { try ReportReader.timeline(text: cut, path: "t.jsonl") }
        #expect(ReportInputError.truncatedTimeline(path: "t.jsonl", line: 41).description == "t.jsonl line 41: not a whole JSON object (truncated?)")
    }

    @Test func rerendersTheHTMLFromTheFiles() throws {
        let root = try tempDir()
        defer { try? FileManager.default.removeItem(at: root) }
        let dir = try ReportWriter.write(htmlFixtureReport(), commands: ["kill -9 4242  # n1"], under: root)
        let html = dir.appendingPathComponent("report.html")
        let first = try String(contentsOf: html, encoding: .utf8)
        try FileManager.default.removeItem(at: html)
        try ReportReader.rerenderHTML(dir: dir)
        let again = try String(contentsOf: html, encoding: .utf8)
        #expect(again == first, "report.json + timeline.jsonl + commands.log give the same page")
        #expect(again.contains("kill -9 4242"))
    }
}
