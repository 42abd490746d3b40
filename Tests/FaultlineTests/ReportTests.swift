import Testing
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import Faultline
@testable import FaultlineReports
import Scenarios

@Suite("Report renderers")
struct ReportTests {
    func report(_ obs: Observations = Fixture.outage20s(), scenario: Scenario = killPrimary) -> RunReport {
        RunReport(runId: "kill-primary-20261125-131400", scenario: scenario, overrides: ["rto=30s"], environment: "local",
                  startedAt: "2026-11-25T13:14:00Z", durationMs: 95_250, observations: obs, judgement: Judgement(scenario, obs))
    }

    @Test func jsonRoundTrips() throws {
        var obs = Fixture.outage20s()
        obs.load.indeterminate = [IndeterminateWrite(id: "w2-9", startMs: 10_010, giveUpMs: 15_010, reason: "connection lost")]
        obs.load.windows[120].errors = [.readOnly: 2, .adminShutdown: 1]
        let r = report(obs)
        let json = try Render.json(r)
        let back = try Render.decode(json)
        #expect(back == r)
        #expect(back.verdicts.map(\.id) == r.verdicts.map(\.id))
    }

    @Test func jsonUsesTheDocumentedShape() throws {
        let json = try Render.json(report())
        let top = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        for key in ["schemaVersion", "runId", "scenario", "overrides", "environment", "startedAt", "durationMs",
                    "exitCode", "status", "verdicts", "recovery", "observations"] {
            #expect(top[key] != nil, "missing \(key)")
        }
        #expect(top["exitCode"] as? Int == 0)
        let verdicts = try #require(top["verdicts"] as? [[String: Any]])
        let rto = try #require(verdicts.first { $0["id"] as? String == "rto" })
        #expect(rto["status"] as? String == "passed")
        #expect((rto["measured"] as? [String: Any])?["unit"] as? String == "ms")
        #expect((rto["target"] as? [String: Any])?["value"] as? Double == 30_000)
        let steps = try #require((top["scenario"] as? [String: Any])?["steps"] as? [[String: Any]])
        #expect(steps[0]["kind"] as? String == "inject")
        #expect((steps[0]["fault"] as? [String: Any])?["target"] as? String == "primary")
        #expect(steps[1]["withinMs"] as? Int == 30_000)
        let targets = try #require((top["scenario"] as? [String: Any])?["targets"] as? [String: Any])
        #expect(targets["rtoMs"] as? Int == 30_000)
        #expect(targets["observeAfterHealMs"] as? Int == 5_000)
    }

    @Test func targetsWithoutAnObservationWindowDecodeAsNone() throws {
        // report.json written before `observeAfterHealMs` existed: those runs stopped the load at settle.
        let old = #"{"rtoMs": 30000, "lostWrites": 0, "settleMs": 60000, "sustainMs": 1000, "errorBudgetAfter": 0.01}"#
        let t = try JSONDecoder().decode(Targets.self, from: Data(old.utf8))
        #expect(t.observeAfterHeal == .zero)
        #expect(t.errorBudgetAfter == 0.01)
        let again = try JSONDecoder().decode(Targets.self, from: JSONEncoder().encode(Targets(observeAfterHeal: .seconds(7))))
        #expect(again.observeAfterHeal == .seconds(7))
    }

    @Test func junitHasOneTestcasePerVerdictWithTheRightChild() throws {
        var obs = Fixture.neverRecovers()
        obs.readBack = ReadBack(checked: 3, missing: [], error: "no primary & <nothing>")
        let r = report(obs)
        let xml = Render.junit(r)
        let doc = try XMLDocument(data: Data(xml.utf8))
        let cases = try doc.nodes(forXPath: "//testsuite/testcase") as! [XMLElement]
        #expect(cases.count == r.verdicts.count)
        for (c, v) in zip(cases, r.verdicts) {
            #expect(c.attribute(forName: "name")?.stringValue == v.id)
            let children = (c.children ?? []).compactMap { $0.name }
            switch v.result.status {
            case .passed: #expect(!children.contains("failure") && !children.contains("error") && !children.contains("skipped"))
            case .failed: #expect(children.contains("failure"))
            case .skipped: #expect(children.contains("skipped"))
            case .error: #expect(children.contains("error"))
            case .aborted: #expect(children.contains("failure"))
            }
        }
        let suite = try #require(try doc.nodes(forXPath: "//testsuite").first as? XMLElement)
        #expect(suite.attribute(forName: "failures")?.stringValue == "\(r.verdicts.filter { $0.result.status == .failed }.count)")
        #expect(suite.attribute(forName: "errors")?.stringValue == "\(r.verdicts.filter { $0.result.status == .error }.count)")
        #expect(suite.attribute(forName: "time")?.stringValue == "95.250")
        let lost = try #require(cases.first { $0.attribute(forName: "name")?.stringValue == "lost-writes" })
        #expect(lost.elements(forName: "error").first?.attribute(forName: "message")?.stringValue
                == "read-back failed: no primary & <nothing>")
    }

    @Test func markdownShowsVerdictTableAndTimeline() {
        var obs = Fixture.outage20s()
        obs.readBack = ReadBack(checked: 10, missing: [obs.load.acked[3].id])
        let md = Render.markdown(report(obs))
        #expect(md.hasPrefix("# kill-primary: TARGET-FAILED (exit 1)"))
        #expect(md.contains("| RTO (application recovered, from the injection) | ✅ passed | 20.0 s | ≤ 30.0 s |"))
        #expect(md.contains("| Lost acknowledged writes | ❌ failed | 1 | ≤ 0 |"))
        #expect(md.contains("lost: 1 (`\(obs.load.acked[3].id)`)"))
        #expect(md.contains("| 10.4 s | +400 ms | leader-lost | n1 |"))
        #expect(md.contains("| promotion: new leader seen | +15.0 s |"))
    }

    @Test func timelineLinesMergeEventsAndWindowsInOrder() throws {
        let text = try Render.timelineLines(report())
        let rows = text.split(separator: "\n").map { try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        #expect(rows.count == Fixture.outage20s().events.count + Fixture.outage20s().load.windows.count)
        let times = rows.map { $0["atMs"] as! Int }
        #expect(times == times.sorted())
        #expect(rows.contains { $0["type"] as? String == "event" && $0["kind"] as? String == "leader-lost" })
        #expect(rows.contains { $0["type"] as? String == "window" })
    }

    @Test func ledgerLinesMarkLostAndIndeterminate() throws {
        var obs = Fixture.outage20s()
        obs.load.indeterminate = [IndeterminateWrite(id: "w2-9", startMs: 1, giveUpMs: 2, reason: "password=hunter2 lost")]
        obs.readBack = ReadBack(checked: obs.load.acked.count, missing: [obs.load.acked[0].id])
        let rows = try Render.ledgerLines(report(obs)).split(separator: "\n")
            .map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        #expect(rows.count == obs.load.acked.count + 1)
        #expect(rows.filter { $0["lost"] as? Bool == true }.map { $0["id"] as? String } == [obs.load.acked[0].id])
        let ind = try #require(rows.last)
        #expect(ind["status"] as? String == "indeterminate")
        #expect(ind["lost"] == nil)
        #expect(ind["reason"] as? String == "password=*** lost")
    }

    @Test(arguments: [
        ("PGPASSWORD=s3cret psql -h 10.77.0.11", "PGPASSWORD=*** psql -h 10.77.0.11"),
        ("psql 'host=n1 user=app password=s3cret dbname=ledger'", "psql 'host=n1 user=app password=*** dbname=ledger'"),
        ("curl postgres://app:s3cret@10.77.0.11:5432/ledger", "curl postgres://app:***@10.77.0.11:5432/ledger"),
        ("patronictl --password hunter2 list", "patronictl --password *** list"),
        ("export REPLICATION_PASSWORD=\"a b c\"", "export REPLICATION_PASSWORD=***"),
        ("api_token: abc123", "api_token: ***"),
        ("kill -9 4242", "kill -9 4242"),
    ])
    func masksSecrets(input: String, expected: String) {
        #expect(SecretMasker.mask(input) == expected)
        #expect(!Render.commandLog([input]).contains("s3cret"))
    }

    @Test func writerWritesEveryFileAndTheLedgerFileRoundTrips() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("faultline-test-\(UInt64.random(in: 0...UInt64.max))")
        defer { try? FileManager.default.removeItem(at: root) }
        let dir = try ReportWriter.write(report(), commands: ["PGPASSWORD=x psql"], under: root)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        #expect(names == ["commands.log", "junit.xml", "ledger.jsonl", "report.html", "report.json", "report.md", "timeline.jsonl"])
        #expect(try String(contentsOf: dir.appendingPathComponent("commands.log"), encoding: .utf8) == "PGPASSWORD=*** psql\n")
        #expect(try Render.decode(String(contentsOf: dir.appendingPathComponent("report.json"), encoding: .utf8)) == report())

        let ledger = JSONFileFaultLedger(url: root.appendingPathComponent("fault-ledger.json"))
        #expect(try await ledger.entries().isEmpty)
        let a = FaultLedgerEntry(id: "r/1", runId: "r", scenario: "s", action: .killNode(member: "n1"), reversal: .startNode(member: "n1"))
        let b = FaultLedgerEntry(id: "r/2", runId: "r", scenario: "s", action: .switchover(from: "n1", to: nil), reversal: .nothingToUndo)
        try await ledger.record(a)
        try await ledger.record(b)
        #expect(try await JSONFileFaultLedger(url: ledger.url).entries() == [a, b], "persisted, readable by a new process")
        try await ledger.remove(id: "r/1")
        try await ledger.remove(id: "unknown")
        #expect(try await ledger.entries() == [b])
    }
}

@Suite("Secrets in errors")
struct SecretErrorTests {
    @Test func describeMasksErrorDescriptions() {
        #expect(describe(FakeError("psql: host=n1 password=s3cret failed")) == "psql: host=n1 password=*** failed")
    }

    @Test func errorsWithoutADescriptionGiveOnlyTheirType() {
        struct Opaque: Error { var secret = "s3cret" }
        #expect(describe(Opaque()) == "Opaque")
    }

    @Test func aRunWhoseEveryVerdictWasSkippedIsReportedSkippedNotPassed() {
        let skipped = Verdict(id: "fault", title: "Fault", result: .skipped(reason: "unsupported by this kernel"))
        let passed = Verdict(id: "rto", title: "RTO", result: .passed(measured: .ms(1_000), target: .ms(30_000)))
        #expect(Judgement.status(of: [skipped, skipped]) == "skipped")
        #expect(ExitStatus.of([skipped, skipped]) == .passed, "nothing failed: exit 0")
        #expect(Judgement.status(of: [skipped, passed]) == "passed")
        #expect(Judgement.status(of: []) == ExitStatus.harnessError.name)
    }
}
