import Faultline
import FaultlineEnvironments
import FaultlinePG
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

extension Integration {
    /// Disaster recovery on the real local environment (docs/dr.md): the drill to a mark T from repo1, the region loss
    /// (repo1 destroyed, restored from repo2), the sudden loss to the end of the archive, and the archive-gap control,
    /// which must fail before anything is destroyed. Fast profile: 3 s steady state; the 10 s of writes after T stay.
    @Suite(.serialized) struct DRIntegrationTests {
        static let fast = ["steady=3s"]

        func run(_ name: String, _ overrides: [String] = fast) async throws -> (RunReport, URL, ClusterFixture) {
            let fx = try await ClusterFixture.ensureUp()
            let root = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("faultline-it-\(name)-\(UInt32.random(in: 0...UInt32.max))")
            let outcome = try await fx.run(name, overrides: overrides, tag: "dr", reports: root)
            let dir = try #require(outcome.reportDir, "report directory written")
            #expect(outcome.report.observations.harnessErrors.isEmpty, "\(outcome.report.observations.harnessErrors)")
            #expect(!FileManager.default.fileExists(atPath: "\(fx.env.config.stateDir)/dr-destroyed.json"), "no destroyed marker left")
            return (outcome.report, dir, fx)
        }

        func verdict(_ id: String, _ r: RunReport) throws -> Verdict {
            try #require(r.verdicts.first { $0.id == id }, "no verdict \(id) in \(r.verdicts.map(\.id))")
        }

        /// Every declared verdict passed, but those named (each skipped for the reason given at the call).
        func expectAllPassed(_ r: RunReport, skipped: Set<String> = []) {
            let bad = r.verdicts.filter { skipped.contains($0.id) ? $0.result.status != .skipped : $0.result.status != .passed }
            #expect(bad.isEmpty, "\(bad.map { "\($0.id): \($0.result) \($0.notes)" })")
        }

        /// The restored primary, read independently of the runner: this run's rows committed after T and before the
        /// disaster (must be none), and those committed up to T (must equal what the split expected present).
        func independentSplit(_ r: RunReport, _ fx: ClusterFixture) async throws -> (afterT: Int, upToT: Int) {
            let restore = try #require(r.observations.restore)
            let t = try #require(restore.targetISO)
            let runID = try #require(r.observations.load.runID)
            let origin = try #require(restore.loadOriginEpochMs)
            let disaster = EpochTime.iso(milliseconds: origin + Double(restore.disasterLoadMs))
            let c = try PGConnection(fx.rw, connectTimeout: .seconds(5))
            defer { c.close() }
            let after = try c.exec("select count(*) from faultline_ledger where run_id = $1 and pg_xact_commit_timestamp(xmin) > $2::timestamptz "
                                   + "and pg_xact_commit_timestamp(xmin) <= $3::timestamptz", [runID, t, disaster], timeout: .seconds(10)).scalar
            let upTo = try c.exec("select count(*) from faultline_ledger where run_id = $1 and pg_xact_commit_timestamp(xmin) <= $2::timestamptz",
                                  [runID, t], timeout: .seconds(10)).scalar
            return (Int(after ?? "") ?? -1, Int(upTo ?? "") ?? -1)
        }

        /// The runbook is written, lists the restore's pgBackRest command, and holds no secret of the environment.
        func expectRunbook(_ dir: URL, _ fx: ClusterFixture, mentions: [String]) throws {
            let text = try String(contentsOf: dir.appendingPathComponent("runbook.md"), encoding: .utf8)
            for m in mentions { #expect(text.contains(m), "runbook.md mentions \(m)") }
            let secrets = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(fx.env.config.stateDir)/secrets.json"))) as? [String: Any]
            for case let (k, v as String) in secrets ?? [:] where v.count >= 8 {
                #expect(!text.contains(v), "secret \(k) in runbook.md")
                let commands = (try? String(contentsOf: dir.appendingPathComponent("commands.log"), encoding: .utf8)) ?? ""
                #expect(!commands.contains(v), "secret \(k) in commands.log")
            }
        }

        @Test func drillRestoresEveryWriteUpToTAndNoneAfter() async throws {
            let (r, dir, fx) = try await run("dr-drill")
            expectAllPassed(r, skipped: ["error-budget-after"])  // no heal runs when nothing was injected
            let restore = try #require(r.observations.restore)
            #expect((restore.commitsBefore?.count ?? 0) > 0 && !restore.presentAfter.isEmpty, "\(restore.error ?? "")")
            let lost = try verdict("lost-writes", r)
            #expect(lost.result == .passed(measured: .count(0), target: .count(0)), "\(lost.notes)")
            #expect(try verdict("writes-after-target-absent", r).result.status == .passed)
            let rpo = try verdict("rpo", r)
            #expect(rpo.result.status == .passed && (rpo.result.measured?.value ?? -1) >= 0, "\(rpo.notes)")
            let rto = try verdict("rto", r)
            #expect(rto.result.status == .passed && (rto.result.measured?.value ?? 0) > 1000, "the restore takes seconds: \(rto.notes)")
            #expect(rto.notes.contains { $0.contains("breakdown") }, "\(rto.notes)")
            // Checked apart from the runner: nothing committed between T and the disaster survived, and every row up to T did.
            let split = try await independentSplit(r, fx)
            #expect(split.afterT == 0, "rows committed after T present: \(split.afterT)")
            let expected = (restore.commitsBefore ?? [:]).values.filter { $0 <= (restore.targetEpochMs ?? 0) }.count
            #expect(split.upToT == expected, "rows up to T: \(split.upToT), before the destroy: \(expected)")
            try expectRunbook(dir, fx, mentions: ["pgbackrest", "--type=time", "restore", "backup", "pg_amcheck", "verify"])
            let facts = try #require(r.observations.operations?.first { $0.operation.slug == "restore" }?.outcome?.facts)
            #expect(facts["pg_amcheck"] == "ok" && facts["pgbackrest-verify"] == "ok" && facts["data-checksums"] == "on, 0 failures", "\(facts)")
        }

        @Test(.nightlyOnly) func regionLossRestoresFromTheSecondRepository() async throws {
            let (r, dir, fx) = try await run("dr-drill-region-loss")
            expectAllPassed(r, skipped: ["error-budget-after"])
            let ops = r.observations.operations ?? []
            let restore = try #require(ops.first { $0.operation.slug == "restore" })
            #expect(restore.outcome?.facts["repo"] == "2")
            #expect(ops.contains { $0.operation == .destroyRepository("1") && $0.status == .succeeded })
            #expect(try await independentSplit(r, fx).afterT == 0)
            try expectRunbook(dir, fx, mentions: ["--repo=2", "repo1"])
            // repo1 is usable again afterwards (its stanza made again): a backup to it works.
            let b = try await fx.env.runBackup(type: .full, repo: 1)
            #expect(b.repo == 1)
        }

        @Test func suddenLossRestoresToTheEndOfTheArchive() async throws {
            let (r, _, _) = try await run("dr-sudden-loss", Self.fast + ["hold=5s"])
            expectAllPassed(r, skipped: ["error-budget-after"])
            #expect(r.verdicts.first { $0.id == "writes-after-target-absent" } == nil, "no target, no after-T verdict")
            let lost = try verdict("lost-writes", r)
            #expect(lost.result.measured != nil, "the writes lost are counted: \(lost.result)")
            #expect(try verdict("rpo", r).result.status == .passed)
        }

        /// The control: a WAL segment removed after the backup. The pre-check finds the gap and refuses to destroy:
        /// the run fails (exit 1) with the reason, and the cluster is untouched (same timeline, nothing lost).
        @Test func archiveGapControlFailsBeforeDestroyingAnything() async throws {
            let fx = try await ClusterFixture.ensureUp()
            let before = try await fx.env.status(withReplication: false)
            let (r, _, _) = try await run("dr-archive-gap")
            #expect(r.exitStatus == .targetFailed, "\(r.exitStatus)")
            let destroy = try #require(r.verdicts.first { $0.id.hasPrefix("operation-destroy") }, "\(r.verdicts.map(\.id))")
            guard case .failed(_, _, let why) = destroy.result else { Issue.record("destroy verdict: \(destroy.result)"); return }
            #expect(why.contains("pre-check failed, nothing destroyed") && why.contains("lacks WAL segment"), "\(why)")
            #expect(try verdict("lost-writes", r).result == .passed(measured: .count(0), target: .count(0)))
            let after = try await fx.env.status(withReplication: false)
            #expect(after.leader?.timeline == before.leader?.timeline, "no restore happened")
            #expect(r.verdicts.allSatisfy { $0.result.status != .passed || $0.id != "rpo" }, "the control never passes its RPO")
        }

        /// The backup commands on the real repositories: the schedule's own command line (from its rendered unit) takes a
        /// backup to repo2, `backup list --json` lists it, and Prometheus scrapes its age (job `backup`) for the stale-backup
        /// alert.
        @Test func theScheduledBackupCommandWorksAndItsAgeIsScraped() async throws {
            _ = try await ClusterFixture.ensureUp()
            let dir = NSTemporaryDirectory() + "faultline-it-schedule-\(UInt32.random(in: 0...UInt32.max))"
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let sched = try await LocalEnvironmentTests.cli(["backup", "schedule", "--output", dir])
            #expect(sched.status == 0, "\(sched.err)")
            let unit = try String(contentsOfFile: "\(dir)/faultline-local-backup-repo2-full.service", encoding: .utf8)
            let exec = try #require(unit.split(separator: "\n").first { $0.hasPrefix("ExecStart=") }).dropFirst("ExecStart=".count)
            let argv = exec.split(separator: " ").map(String.init)
            #expect(argv.dropFirst().prefix(3) == ["backup", "run", "--type"], "\(argv)")
            let run = try await LocalEnvironmentTests.cli(Array(argv.dropFirst()) + ["--json"])
            #expect(run.status == 0, "\(run.err)")
            let made = try JSONSerialization.jsonObject(with: Data(run.out.utf8)) as? [String: Any]
            let label = try #require(made?["label"] as? String, "\(run.out)")
            let list = try await LocalEnvironmentTests.cli(["backup", "list", "--repo", "2", "--json"])
            #expect(list.status == 0 && list.out.contains(label), "\(list.out.prefix(400)) \(list.err)")
            // Prometheus scrapes the new age within a few scrape intervals.
            let url = "http://\(ClusterFixture.config.clientIP):9090/api/v1/query?query=faultline_backup_newest_good_age_seconds%7Bjob%3D%22backup%22%2Crepo%3D%222%22%7D"
            var age: Double?
            let deadline = ContinuousClock.now + .seconds(45)
            while age.map({ $0 > 600 }) ?? true, ContinuousClock.now < deadline {
                try await Task.sleep(for: .seconds(1))
                let body = (try? HTTP.get(url, timeout: .seconds(2)))?.body ?? ""
                let o = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
                let result = ((o?["data"] as? [String: Any])?["result"] as? [[String: Any]])?.first
                age = ((result?["value"] as? [Any])?.last as? String).flatMap(Double.init)
            }
            #expect((age ?? .infinity) < 600, "the newest repo2 backup's age as Prometheus sees it: \(age.map { "\($0) s" } ?? "absent")")
        }

        /// faultline SIGKILLed between the destroy and the restore: nothing runs, the data directories are gone. `faultline
        /// heal` finds the destroy's marker and restores the cluster from the archive (to its end) before its usual work.
        @Test func aDrillKilledAfterItsDestroyIsRestoredByFaultlineHeal() async throws {
            let fx = try await ClusterFixture.ensureUp()
            let cfg = fx.env.config
            let marker = "\(cfg.stateDir)/dr-destroyed.json"
            let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("faultline-dr-kill-\(UInt32.random(in: 0...UInt32.max))")
            try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: tmp) }
            let runLog = tmp.appendingPathComponent("run.log"), healLog = tmp.appendingPathComponent("heal.log")
            let run = try ScenarioIntegrationTests.start(["run", "dr-drill", "--set", "steady=3s", "--reports", tmp.path], log: runLog)
            do {
                // Destroyed: the marker is written and no Patroni runs any more.
                let deadline = ContinuousClock.now + .seconds(120)
                while !(FileManager.default.fileExists(atPath: marker) && cfg.nodeNames.allSatisfy { !fx.env.daemons.isRunning("\($0)-patroni") }) {
                    guard run.isRunning else {
                        throw ScenarioIntegrationTests.Timeout(description: "faultline run ended (exit \(run.terminationStatus)) before the destroy: "
                                                               + ((try? String(contentsOf: runLog, encoding: .utf8)) ?? ""))
                    }
                    guard ContinuousClock.now < deadline else { throw ScenarioIntegrationTests.Timeout(description: "not destroyed after 120 s") }
                    try await Task.sleep(for: .milliseconds(20))
                }
            } catch {
                kill(run.processIdentifier, SIGKILL)
                throw error
            }
            kill(run.processIdentifier, SIGKILL)
            try await ScenarioIntegrationTests.wait(run, within: .seconds(10))
            #expect(FileManager.default.fileExists(atPath: marker), "the marker outlives the harness")

            let heal = try ScenarioIntegrationTests.start(["heal"], log: healLog)
            try await ScenarioIntegrationTests.wait(heal, within: .seconds(240))
            let out = (try? String(contentsOf: healLog, encoding: .utf8)) ?? ""
            #expect(heal.terminationStatus == 0, "faultline heal: \(out)")
            #expect(!FileManager.default.fileExists(atPath: marker), "the restore removed the marker")
            let status = await fx.env.status(withReplication: false)
            #expect(status.healthy, "\(status.problems)")
            // The data came back from the archive: the ledger table and its rows are there.
            let c = try PGConnection(fx.rw, connectTimeout: .seconds(5))
            defer { c.close() }
            let rows = Int(try c.exec("select count(*) from faultline_ledger", timeout: .seconds(10)).scalar ?? "") ?? 0
            #expect(rows > 0, "ledger rows restored: \(rows)")
        }

        /// `faultline backup restore` refuses, with one line and exit 2 and nothing changed: a target in the future, one
        /// before the oldest backup, an unknown repository, and a restore while the cluster is up without --force.
        @Test func badRestoreRequestsAreRefusedWithNothingChanged() async throws {
            let fx = try await ClusterFixture.ensureUp()
            if (try? await fx.env.backupInfo())?.newestGood(repo: 1) == nil { _ = try await fx.env.runBackup(type: .full, repo: 1) }
            let before = try await fx.env.status(withReplication: false)
            for args in [["--target", "2099-01-01T00:00:00Z"], ["--target", "2000-01-01T00:00:00Z"], ["--repo", "3"], []] {
                let r = try await LocalEnvironmentTests.cli(["backup", "restore"] + args)
                #expect(r.status == 2, "\(args): \(r.err)")
                #expect(r.err.split(separator: "\n").count == 1, "\(args): \(r.err)")
            }
            // Backups on compose: refused before anything runs, with the environment that has them.
            for sub in [["list"], ["run", "--repo", "1"], ["restore"]] {
                let r = try await LocalEnvironmentTests.cli(["backup"] + sub + ["--environment", "compose"])
                #expect(r.status == 2 && r.err.split(separator: "\n").count == 1 && r.err.contains("use --environment local"), "\(sub): \(r.err)")
            }
            let after = try await fx.env.status(withReplication: false)
            #expect(after.healthy && after.leader?.timeline == before.leader?.timeline, "\(after.problems)")
        }
    }
}
