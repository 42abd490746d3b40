import Faultline
import FaultlineEnvironments
import FaultlineLoad
import FaultlinePG
import FaultlineReports
import FaultlineWiring
import Foundation
import Logging
import Scenarios
import Testing
#if canImport(FoundationXML)
import FoundationXML
#endif
#if canImport(Glibc)
import Glibc
#endif

extension Integration {
    /// The scenario catalogue end to end on the real local environment: the real `Runner`, the local
    /// environment driver and the real load generator, wired as `faultline run` wires them
    /// (Sources/FaultlineWiring/Wiring.swift), with shortened parameters; then the reports on disk. And the
    /// `faultline` binary SIGKILLed mid-fault, then `faultline heal`.
    @Suite(.serialized) struct ScenarioIntegrationTests {
        /// Shorter than the catalogue's defaults, for CI: 3 s steady state, 50 writes/s and 50 reads/s,
        /// 3 s of load after the heal.
        static let ciOverrides = ["steady=3s", "rate=50", "observe=3s", "p99=1s"]

        struct Outcome {
            var report: RunReport
            var dir: URL
            var fixture: ClusterFixture
        }

        /// One run of `name` as `faultline run` does it (`RunSession`), reports written under a fresh temporary directory.
        func run(_ name: String, _ overrides: [String] = ciOverrides) async throws -> Outcome {
            let fx = try await ClusterFixture.ensureUp()
            let root = FileManager.default.temporaryDirectory.appendingPathComponent("faultline-it-\(name)-\(UInt32.random(in: 0...UInt32.max))")
            let o = try await fx.run(name, overrides: overrides, tag: "it", reports: root)
            return Outcome(report: o.report, dir: try #require(o.reportDir), fixture: fx)
        }

        static func isAlertVerdict(_ v: Verdict) -> Bool { v.id.contains("alert-") }

        static func ledgerURL(_ cfg: LocalConfig) -> URL {
            URL(fileURLWithPath: cfg.stateDir).appendingPathComponent("fault-ledger.json")
        }

        func verdict(_ id: String, _ r: RunReport) throws -> Verdict {
            try #require(r.verdicts.first { $0.id == id }, "no verdict \(id) in \(r.verdicts.map(\.id))")
        }

        /// What every scenario run must show: recovered within the RTO after real client errors, nothing lost,
        /// settled, after-heal budgets measured (not skipped), and reports on disk without a password.
        func checkPassedRun(_ o: Outcome) throws {
            let r = o.report
            #expect(r.observations.harnessErrors.isEmpty, "\(r.observations.harnessErrors)")
            #expect(!r.verdicts.contains { $0.id == "harness" })

            let rto = try verdict("rto", r)
            #expect(rto.result.status == .passed, "\(rto.result) \(rto.notes)")
            #expect((rto.result.measured?.value ?? 0) > 0, "clients saw an outage: \(rto.notes)")

            let lost = try verdict("lost-writes", r)
            #expect(lost.result.status == .passed, "\(lost.result) \(lost.items.prefix(10))")
            #expect(lost.result.measured == .count(0))
            #expect(r.observations.readBack?.checked ?? 0 > 0, "acknowledged writes were read back")
            #expect(r.observations.readBack?.checked == r.observations.load.acked.count)

            let settle = try #require(r.verdicts.first { $0.id.hasPrefix("settle-") })
            #expect(settle.result.status == .passed, "\(settle.result)")
            // Every verdict the scenario declares passes, its alert steps included: a skipped verdict is not a pass.
            let notPassed = r.verdicts.filter { $0.result.status != .passed }
            #expect(notPassed.isEmpty, "\(notPassed.map { "\($0.id): \($0.result) \($0.notes)" })")
            #expect(r.verdicts.contains { Self.isAlertVerdict($0) } == r.scenario.steps.contains { step in
                if case .expect(let c, _) = step { c.readsAlerts } else { false }
            }, "an alert verdict for every alert step")
            let splitBrain = try verdict("split-brain", r)
            #expect(splitBrain.result.status == .passed, "\(splitBrain.result)")

            // The observation window: the load ran after the heal, so these were measured.
            for id in ["error-budget-after", "p99-after"] {
                let v = try verdict(id, r)
                #expect(v.result.status == .passed, "\(id): \(v.result) \(v.notes)")
                #expect(v.result.measured != nil, "\(id) measured")
            }
            let healed = try #require(r.observations.healFinishedAtMs)
            let stopped = try #require(r.observations.loadStoppedAtMs)
            #expect(stopped - healed >= 3_000, "load kept on for the 3 s observation window")
            #expect(r.observations.events.contains { $0.kind == .phase && $0.detail == "observe" })
            #expect(r.exitCode == 0, "\(r.status)")
            #expect(r.status == "passed")

            try checkReportFiles(o)
        }

        /// report.json parses back to the report; junit.xml has one testcase per verdict; commands.log holds the
        /// run's commands; no file holds any password of the environment.
        func checkReportFiles(_ o: Outcome) throws {
            let fm = FileManager.default
            let names = try fm.contentsOfDirectory(atPath: o.dir.path).sorted()
            #expect(names == ["commands.log", "junit.xml", "ledger.jsonl", "report.html", "report.json", "report.md", "timeline.jsonl"])

            let json = try String(contentsOf: o.dir.appendingPathComponent("report.json"), encoding: .utf8)
            let back = try Render.decode(json)
            #expect(back.runId == o.report.runId)
            #expect(back.verdicts.map(\.id) == o.report.verdicts.map(\.id))
            #expect(back.exitCode == o.report.exitCode)

            let junit = try XMLDocument(contentsOf: o.dir.appendingPathComponent("junit.xml"))
            let cases = try junit.nodes(forXPath: "//testcase")
            #expect(cases.count == o.report.verdicts.count)

            let commands = try String(contentsOf: o.dir.appendingPathComponent("commands.log"), encoding: .utf8)
            #expect(!commands.isEmpty, "the environment ran commands during the run")

            let secretsURL = URL(fileURLWithPath: o.fixture.env.config.stateDir).appendingPathComponent("secrets.json")
            let secrets = try JSONDecoder().decode([String: String].self, from: Data(contentsOf: secretsURL))
            #expect(!secrets.isEmpty)
            for name in names {
                let text = try String(contentsOf: o.dir.appendingPathComponent(name), encoding: .utf8)
                for (user, password) in secrets where !password.isEmpty {
                    #expect(!text.contains(password), "the \(user) password appears in \(name)")
                }
            }
        }

        @Test func killPrimaryFailsOverWithinTheRTOAndLosesNothing() async throws {
            let o = try await run("kill-primary")
            try checkPassedRun(o)
            let r = o.report
            let before = try #require(r.observations.primaryAtInjection)
            #expect(r.observations.topologyAfter?.primary?.name != before, "another member leads after the failover")
            #expect(r.observations.events.contains { $0.kind == .leaderElected && $0.member != before })
            let recovery = try #require(r.recovery)
            #expect(recovery.detectionMs != nil && recovery.promotionMs != nil, "detection and promotion seen")
        }

        @Test func killPostgresRecoversAndLosesNothing() async throws {
            let o = try await run("kill-postgres")
            try checkPassedRun(o)
            #expect(o.report.observations.events.contains { $0.kind == .faultApplied })
        }

        @Test func switchoverMovesTheLeaderToTheSyncStandby() async throws {
            let fx = try await ClusterFixture.ensureUp()
            let sync = try #require(await fx.env.status(withReplication: false).syncStandbys.first?.name)
            let o = try await run("switchover")
            try checkPassedRun(o)
            #expect(o.report.observations.topologyAfter?.primary?.name == sync)
        }

        // MARK: - SIGKILL of the harness

        struct Timeout: Error, CustomStringConvertible { var description: String }

        /// The `faultline` executable of this build: next to the test bundle, else the newest `.build*/debug/faultline`.
        static func faultlineBinary() throws -> String {
            let fm = FileManager.default
            var candidates: [String] = []
            if let exe = try? fm.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
                // .build-x/<triple>/debug/FaultlinePackageTests.xctest (a file on Linux)
                candidates.append(URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("faultline").path)
            }
            candidates.append(Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("faultline").path)
            let builds = ((try? fm.contentsOfDirectory(atPath: ClusterFixture.home)) ?? []).filter { $0.hasPrefix(".build") }
            let fallback = builds.map { "\(ClusterFixture.home)/\($0)/debug/faultline" }
                .filter { fm.isExecutableFile(atPath: $0) }
                .sorted { mtime($0) > mtime($1) }
            candidates += fallback
            guard let found = candidates.first(where: { fm.isExecutableFile(atPath: $0) }) else {
                throw Timeout(description: "no faultline binary (looked at \(candidates)); run `swift build` first")
            }
            return found
        }

        static func mtime(_ path: String) -> Date {
            ((try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date) ?? .distantPast
        }

        /// Starts `faultline args...` with this process's environment (FAULTLINE_STATE_DIR and friends), output to `log`.
        static func start(_ args: [String], log: URL) throws -> Process {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: try faultlineBinary())
            p.arguments = args
            p.environment = ProcessInfo.processInfo.environment.merging(ClusterFixture.cliVariables) { $1 }
            FileManager.default.createFile(atPath: log.path, contents: nil)
            let h = try FileHandle(forWritingTo: log)
            p.standardOutput = h
            p.standardError = h
            try p.run()
            return p
        }

        static func wait(_ p: Process, within limit: Duration) async throws {
            let deadline = ContinuousClock.now + limit
            while p.isRunning {
                guard ContinuousClock.now < deadline else {
                    kill(p.processIdentifier, SIGKILL)
                    throw Timeout(description: "faultline \(p.arguments ?? []) still running after \(limit)")
                }
                try await Task.sleep(for: .milliseconds(100))
            }
        }

        @Test func sigkilledHarnessMidFaultIsHealedByFaultlineHeal() async throws {
            let fx = try await ClusterFixture.ensureUp()
            let cfg = fx.env.config
            let ledger = JSONFileFaultLedger(url: Self.ledgerURL(cfg))
            #expect(try await ledger.entries().isEmpty, "a clean ledger before the run")
            let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("faultline-kill-\(UInt32.random(in: 0...UInt32.max))")
            try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
            let runLog = tmp.appendingPathComponent("run.log"), healLog = tmp.appendingPathComponent("heal.log")

            let run = try Self.start(["run", "kill-primary", "--set", "steady=2s", "--set", "rate=50", "--reports", tmp.path], log: runLog)
            var victim: String?
            do {
                // The fault is in place: its ledger entry is written, and the victim's Patroni is gone.
                let deadline = ContinuousClock.now + .seconds(45)
                while victim == nil {
                    guard run.isRunning else {
                        throw Timeout(description: "faultline run ended (exit \(run.terminationStatus)) before the fault: "
                                      + ((try? String(contentsOf: runLog, encoding: .utf8)) ?? ""))
                    }
                    guard ContinuousClock.now < deadline else { throw Timeout(description: "no fault in the ledger after 45 s") }
                    if case .killNode(let m)? = try? await ledger.entries().first?.action, !fx.env.daemons.isRunning("\(m)-patroni") {
                        victim = m
                    } else {
                        try await Task.sleep(for: .milliseconds(50))
                    }
                }
            } catch {
                kill(run.processIdentifier, SIGKILL)
                throw error
            }
            let killed = try #require(victim)
            kill(run.processIdentifier, SIGKILL)
            try await Self.wait(run, within: .seconds(10))
            #expect(run.terminationReason == .uncaughtSignal && run.terminationStatus == SIGKILL)

            // What the dead harness left behind: the entry, the node down, no report.
            let left = try await ledger.entries()
            #expect(left.count == 1)
            #expect(left.first?.reversal == .startNode(member: killed))
            #expect(!fx.env.daemons.isRunning("\(killed)-patroni"))
            #expect(((try? FileManager.default.contentsOfDirectory(atPath: tmp.path)) ?? []).allSatisfy { $0.hasSuffix(".log") })

            let healStarted = ContinuousClock.now
            let heal = try Self.start(["heal"], log: healLog)
            try await Self.wait(heal, within: .seconds(80))
            let healOutput = (try? String(contentsOf: healLog, encoding: .utf8)) ?? ""
            print("killed faultline with \(killed) down; faultline heal took \(healStarted.duration(to: .now)): \(healOutput)")
            #expect(heal.terminationStatus == 0, "faultline heal: \(healOutput)")
            #expect(healOutput.contains("1 fault undone"), "\(healOutput)")

            #expect(try await ledger.entries().isEmpty, "the fault ledger is empty after the heal")
            for n in cfg.nodeNames {
                #expect(fx.env.daemons.isRunning("\(n)-patroni"), "\(n)'s Patroni runs")
            }
            let status = await fx.env.status(withReplication: false)
            #expect(status.members.count == 3)
            #expect(status.members.filter(\.isLeader).count == 1)
            #expect(status.members.filter(\.isSync).count == 1)
            #expect(status.healthy, "\(status.problems)")
            // Not only Patroni's (DCS) view: every PostgreSQL answers, exactly one is a primary, writes go through.
            var roles: [String: String] = [:]
            for n in cfg.nodeNames {
                let c = try PGConnection(fx.direct(n), connectTimeout: .seconds(3))
                roles[n] = try c.exec("select pg_is_in_recovery()", timeout: .seconds(3)).scalar
                c.close()
            }
            #expect(roles.values.filter { $0 == "f" }.count == 1, "\(roles)")
            #expect(roles.values.filter { $0 == "t" }.count == 2, "\(roles)")
            let rw = try PGConnection(fx.rw, connectTimeout: .seconds(3))
            #expect(try rw.exec("select pg_is_in_recovery()", timeout: .seconds(3)).scalar == "f")
            rw.close()
            try? FileManager.default.removeItem(at: tmp)
        }
    }
}
