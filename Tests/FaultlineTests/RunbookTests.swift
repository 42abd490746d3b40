import Testing
import Foundation
@testable import Faultline
@testable import FaultlineReports
import Scenarios

@Suite("Runbook")
struct RunbookTests {
    static let tISO = "2026-11-25T13:14:45.123456Z"
    static let runID = "dr-drill-20261125-131400"

    static func step(_ at: String, _ purpose: String, _ command: String, _ outcome: String = "ok") -> RunbookStep {
        RunbookStep(at: at, purpose: purpose, command: command, outcome: outcome)
    }

    /// dr-drill as recorded: backup 10 → 40 s, mark at 45 s, destroy 55 → 58 s, restore 58 s → 2 m; the operations
    /// deliberately out of order (the renderer orders them by step).
    static func drill(withCommands: Bool = true, restoreTo target: String? = "target") -> RunReport {
        var obs = Observations(load: Fixture.writes(until: 60_000) { _ in false }, loadStoppedAtMs: 130_000)
        obs.load.runID = runID
        let c = withCommands
        let backup = OperationResult(step: 0, operation: .backup(.full, repo: "1"), startedAtMs: 10_000, endedAtMs: 40_000, status: .succeeded,
                                     outcome: OperationOutcome("backup 20261125-131410F", commands: c ? [
                                        step("2026-11-25T13:14:10.000Z", "take a full backup into repo1",
                                             "PGPASSWORD=secret pgbackrest --stanza=main --repo=1 --type=full backup", "ok, 30.0 s"),
                                     ] : nil))
        let mark = OperationResult(step: 2, operation: .mark("target"), startedAtMs: 45_000, endedAtMs: 45_000, status: .succeeded,
                                   outcome: OperationOutcome(facts: ["server-time": tISO]))
        let destroy = OperationResult(step: 4, operation: .destroy, startedAtMs: 55_000, endedAtMs: 58_000, status: .succeeded,
                                      outcome: OperationOutcome("3 members destroyed", commands: c ? [
                                        step("2026-11-25T13:14:55.000Z", "check the archive has no gap since the backup",
                                             "pgbackrest --stanza=main --repo=1 check"),
                                        step("2026-11-25T13:14:56.000Z", "stop Patroni and remove every data directory",
                                             "systemctl stop patroni && rm -rf /var/lib/postgresql/15/main"),
                                      ] : []))
        let restore = OperationResult(step: 5, operation: .restore(to: target, repo: "1"), startedAtMs: 58_000, endedAtMs: 120_000,
                                      status: .succeeded, outcome: OperationOutcome("restored to T", commands: c ? [
                                        step("2026-11-25T13:14:58.000Z", "restore the primary's data directory to T from repo1",
                                             "pgbackrest --stanza=main --repo=1 --type=time --target='2026-11-25 13:14:45.123456+00' restore"),
                                        step("2026-11-25T13:15:50.000Z", "check the restored primary answers",
                                             "psql 'host=10.77.0.11 password=secret dbname=postgres' -c 'select 1'", "ok, 12 ms"),
                                      ] : nil))
        obs.operations = target == nil ? [destroy, backup, restore] : [restore, mark, backup, destroy]
        obs.restore = RestoreCheck(target: target, targetEpochMs: target.map { _ in 1_795_612_485_123 }, targetISO: target.map { _ in tISO },
                                   targetLoadMs: target.map { _ in 45_000 }, disasterLoadMs: 55_000, loadOriginEpochMs: 1_795_612_440_000,
                                   commitsBefore: ["w1-1": 1_795_612_450_000, "w1-2": 1_795_612_486_000], presentAfter: ["w1-1": 1_795_612_450_000])
        var s = drDrill
        if target == nil { s = drSuddenLoss }
        return RunReport(runId: runID, scenario: s, environment: "local", startedAt: "2026-11-25T13:14:00Z",
                         durationMs: 131_000, observations: obs, judgement: Judgement(s, obs))
    }

    func indices(of keys: [String], in text: String) -> [String.Index?] {
        keys.map { text.range(of: $0)?.lowerBound }
    }

    @Test func sectionsFollowTheStepsWithTheirTimesAndNumberedCommands() throws {
        let md = try #require(Runbook.render(Self.drill()))
        let keys = ["# Runbook: dr-drill, run `\(Self.runID)`", "## What this drill does", "## Target and ledger",
                    "## Step 1: full backup (repo 1)", "## Step 3: mark 'target'", "## Step 5: destroy the cluster",
                    "## Step 6: restore to mark 'target' (repo 1)", "## Results", "### Verify independently"]
        let at = indices(of: keys, in: md)
        for (k, i) in zip(keys, at) { #expect(i != nil, "missing \(k)") }
        let found = at.compactMap { $0 }
        #expect(found == found.sorted(), "sections out of order")

        #expect(md.contains("- date: 2026-11-25T13:14:00Z"))
        #expect(md.contains("- environment: `local`"))
        #expect(md.contains("- started +10.0 s after load start, ended +40.0 s, took 30.0 s (bound: 5m)"))
        #expect(md.contains("- started +58.0 s after load start, ended +2 m 0 s, took 1 m 2 s (bound: 30m)"))
        #expect(md.contains("- T: mark 'target' at `\(Self.tISO)` (server time), 45000 ms since load start (+45.0 s)"))
        #expect(md.contains("- ledger run id: `\(Self.runID)`"))
        #expect(md.contains("Mark 'target': name this instant T."))
        #expect(md.contains("2. Full backup (repo 1), within 5m.\n3. Keep the load running for 5s.\n4. Mark 'target': name this instant T."))
        #expect(md.contains("7. Restore to mark 'target' (repo 1), within 30m."))

        // The destroy's two commands, numbered, each a fenced block with its outcome.
        let destroy = try #require(md.range(of: "## Step 5: destroy the cluster"))
        let rest = String(md[destroy.upperBound...])
        let first = try #require(rest.range(of: "1. **check the archive has no gap since the backup** (at `2026-11-25T13:14:55.000Z`)"))
        let second = try #require(rest.range(of: "2. **stop Patroni and remove every data directory**"))
        #expect(first.lowerBound < second.lowerBound)
        #expect(rest.contains("   ```sh\n   pgbackrest --stanza=main --repo=1 check\n   ```\n\n   Outcome: ok"))
        #expect(md.contains("No commands recorded."), "the mark has none")
    }

    @Test func secretsInCommandsAreMasked() throws {
        let md = try #require(Runbook.render(Self.drill()))
        #expect(!md.contains("secret"))
        #expect(md.contains("PGPASSWORD=*** pgbackrest --stanza=main --repo=1 --type=full backup"))
        #expect(md.contains("psql 'host=10.77.0.11 password=*** dbname=postgres' -c 'select 1'"))
    }

    @Test func noRunbookWithoutCommands() {
        #expect(Runbook.render(Self.drill(withCommands: false)) == nil, "nil and empty command lists")
        #expect(Runbook.render(ReportTests().report()) == nil, "a fault run has no operations")
    }

    @Test func resultsReflectTheVerdicts() throws {
        var r = Self.drill()
        r.verdicts = [
            Verdict(id: "lost-writes", title: "Lost writes", result: .failed(measured: .count(2), target: .count(0), why: "2 lost"),
                    items: ["w1-7", "w1-8"]),
            Verdict(id: "rto", title: "RTO (restore)", result: .failed(measured: .ms(2_400_000), target: .ms(1_800_000), why: "too slow")),
            Verdict(id: "rpo", title: "RPO", result: .passed(measured: .ms(2_100), target: .ms(300_000))),
            Verdict(id: "writes-after-target-absent", title: "Writes after T absent", result: .passed(measured: .count(0), target: .count(0))),
        ]
        let md = try #require(Runbook.render(r))
        let rows = ["| RPO | ✅ passed | 2.1 s | ≤ 5 m 0 s |", "| RTO (restore) | ❌ failed | 40 m 0 s | ≤ 30 m 0 s | too slow |",
                    "| Lost writes | ❌ failed | 2 | ≤ 0 | 2 lost |", "| Writes after T absent | ✅ passed | 0 | ≤ 0 |"]
        let at = indices(of: rows, in: md)
        for (k, i) in zip(rows, at) { #expect(i != nil, "missing \(k)") }
        let found = at.compactMap { $0 }
        #expect(found == found.sorted(), "RPO, RTO, lost, after-T")
        #expect(md.contains("- lost (acknowledged, should be back, absent after the restore): 2 (failed)"))
        #expect(md.contains("- after T (committed after T, present after the restore): 0 (passed)"))
        #expect(md.contains("- ledger rows of this run just before the destroy: 2 (1 committed at or before T); after the restore: 1"))
        #expect(md.contains("WHERE run_id = '\(Self.runID)' AND pg_xact_commit_timestamp(xmin) <= '\(Self.tISO)'::timestamptz;"))
        #expect(md.contains("pg_xact_commit_timestamp(xmin) > '\(Self.tISO)'::timestamptz;"))

        r.verdicts = [Verdict(id: "rpo", title: "RPO", result: .failed(measured: .ms(400_000), target: .ms(300_000), why: "6 m lost"))]
        let failed = try #require(Runbook.render(r))
        #expect(failed.contains("| RPO | ❌ failed | 6 m 40 s | ≤ 5 m 0 s | 6 m lost |"))
        #expect(failed.contains("- lost (acknowledged, should be back, absent after the restore): not judged"))
    }

    @Test func aRestoreToTheEndOfTheArchiveHasNoTarget() throws {
        let md = try #require(Runbook.render(Self.drill(restoreTo: nil)))
        #expect(md.contains("- T: none, the restore went to the end of the archive (a sudden loss)"))
        #expect(md.contains("- disaster (destroy began): 55000 ms since load start (+55.0 s)"))
        #expect(md.contains("SELECT count(*), max(pg_xact_commit_timestamp(xmin)) FROM faultline_ledger\n WHERE run_id = '\(Self.runID)';"))
        #expect(!md.contains("<= '"))
    }

    @Test func aFenceOutlastsBackticksInTheCommand() {
        #expect(Runbook.codeBlock("echo ```x```", language: "sh", indent: "") == "````sh\necho ```x```\n````\n")
    }

    @Test func theWriterAddsTheRunbookNextToTheReport() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("faultline-test-\(UInt64.random(in: 0...UInt64.max))")
        defer { try? FileManager.default.removeItem(at: root) }
        let r = Self.drill()
        let dir = try ReportWriter.write(r, commands: [], under: root)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(names.contains("runbook.md") && names.contains("report.md"))
        #expect(try String(contentsOf: dir.appendingPathComponent("runbook.md"), encoding: .utf8) == Runbook.render(r))
    }
}

@Suite("Disaster-recovery scenarios")
struct DRScenarioTests {
    /// The operation steps of a scenario, in order.
    func operations(_ s: Scenario) -> [OperationSpec] {
        s.steps.compactMap { if case .operation(let op, _) = $0 { op } else { nil } }
    }

    @Test func eachValidatesWithItsOperationsInOrder() throws {
        #expect(Catalogue.dr.map(\.name) == ["dr-drill", "dr-drill-region-loss", "dr-sudden-loss", "dr-archive-gap"])
        for s in Catalogue.dr {
            #expect(s.problems().isEmpty, "\(s.name): \(s.problems())")
            #expect(s.tags.contains(.dr))
            #expect(Catalogue.scenario(named: s.name) == s, "registered")
            #expect(s.injectedFaults.isEmpty)
            #expect(s.steps.last == .expect(.clusterHealthy(members: 3, sync: 1), within: .seconds(120)))
            // A sudden loss loses what was not archived yet: its count is reported, its RPO in time judged.
            let lost = s == drSuddenLoss ? 100_000 : 0
            #expect(s.targets.rto == .minutes(30) && s.targets.rpo == .minutes(5) && s.targets.lostWrites == lost && s.targets.settle == .seconds(120))
        }
        #expect(operations(drDrill) == [.backup(.full, repo: "1"), .mark("target"), .destroy, .restore(to: "target", repo: "1")])
        #expect(operations(drDrillRegionLoss) == [.backup(.full, repo: "1"), .backup(.full, repo: "2"), .mark("target"), .destroy,
                                                  .destroyRepository("1"), .restore(to: "target", repo: "2")])
        #expect(operations(drSuddenLoss) == [.backup(.full, repo: "1"), .destroy, .restore(to: nil, repo: "1")])
        #expect(operations(drArchiveGap) == [.backup(.full, repo: "1"), .mark("target"), .removeArchivedWAL(repo: "1"), .destroy,
                                             .restore(to: "target", repo: "1")])
    }

    @Test func theDrillKeepsWritingAtLeastTenSecondsAfterTAndBoundsItsOperations() throws {
        for s in [drDrill, drDrillRegionLoss, drArchiveGap] {
            let t = try #require(s.steps.firstIndex(of: .operation(.mark("target"), within: nil)))
            let destroy = try #require(s.steps.firstIndex(of: .operation(.destroy, within: nil)))
            let held = s.steps[t..<destroy].reduce(Duration.zero) { acc, st in if case .hold(let d) = st { acc + d } else { acc } }
            #expect(held >= .seconds(10), "\(s.name)")
            #expect(s.steps.contains(.operation(.backup(.full, repo: "1"), within: .minutes(5))))
            #expect(s.steps.contains { if case .operation(.restore, let w) = $0 { w == .minutes(30) } else { false } })
            #expect(s.workloads == [.ledgerWrites(rate: 50), .replicaReads(rate: 50)])
        }
        #expect(drSuddenLoss.workloads.first == .ledgerWrites(rate: 200))
        #expect(!drSuddenLoss.steps.contains { if case .operation(.mark, _) = $0 { true } else { false } })
    }
}
