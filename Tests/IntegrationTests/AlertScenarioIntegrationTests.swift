import Faultline
import FaultlineEnvironments
import FaultlineLoad
import FaultlinePG
import FaultlineReports
import Foundation
import Logging
import Scenarios
import Testing
#if canImport(Glibc)
import Glibc
#endif

extension Integration {
    /// The two alerts no single fault provokes, on the real local environment (ci alert profile):
    /// `no-leader` (FaultlineNoLeader, a double fault) and `rogue-promote` (FaultlineSplitBrain, a replica
    /// promoted by hand in maintenance mode), run as `faultline run` runs them; then what they leave behind.
    /// And a harness SIGKILLed mid rogue-promote, healed by `faultline heal`.
    @Suite(.serialized) struct AlertScenarioIntegrationTests {
        static let overrides = ["steady=3s", "rate=50", "observe=3s"]

        func run(_ name: String) async throws -> (RunReport, ClusterFixture) {
            let fx = try await ClusterFixture.ensureUp()
            return (try await fx.run(name, overrides: Self.overrides, tag: "it").report, fx)
        }

        func verdict(_ id: String, _ r: RunReport) throws -> Verdict {
            try #require(r.verdicts.first { $0.id == id }, "no verdict \(id) in \(r.verdicts.map(\.id))")
        }

        /// The verdict of the step expecting `condition`, by the step's position (ids repeat a slug with `-<step>`).
        func conditionVerdict(_ condition: Condition, _ r: RunReport) throws -> Verdict {
            let step = try #require(r.scenario.steps.firstIndex {
                switch $0 { case .expect(let c, _), .await(let c, _): c == condition; default: false }
            })
            let result = try #require(r.observations.conditions.first { $0.step == step }, "step \(step + 1) ran")
            let v = try #require(r.verdicts.first { $0.title.hasSuffix(condition.description) && $0.id.contains(condition.slug) })
            #expect(result.metAtMs != nil, "\(condition): \(result.lastSeen)")
            return v
        }

        /// Nothing left behind: empty ledger, maintenance mode off, 3 members, one leader, one sync standby,
        /// both replicas streaming, exactly one PostgreSQL out of recovery.
        func checkNothingLeft(_ fx: ClusterFixture) async throws {
            let cfg = fx.env.config
            #expect(try await JSONFileFaultLedger(url: ScenarioIntegrationTests.ledgerURL(cfg)).entries().isEmpty)
            #expect(fx.env.maintenanceMode() == false, "maintenance mode is off")
            let status = await fx.env.status(withReplication: false)
            #expect(status.members.count == 3)
            #expect(status.members.filter(\.isLeader).count == 1, "\(status.members)")
            #expect(status.members.filter(\.isSync).count == 1, "\(status.members)")
            #expect(status.members.filter { $0.state == "streaming" }.count == 2, "both replicas stream: \(status.members)")
            let tl = Set(status.members.compactMap(\.timeline))
            #expect(tl.count == 1, "one timeline: \(status.members)")
            var primaries: [String] = []
            for n in cfg.nodeNames {
                let c = try PGConnection(fx.direct(n, user: "postgres", dbname: "postgres"), connectTimeout: .seconds(3))
                if try c.exec("select pg_is_in_recovery()", timeout: .seconds(3)).scalar == "f" { primaries.append(n) }
                c.close()
            }
            #expect(primaries.count == 1, "exactly one primary: \(primaries)")
        }

        @Test func noLeaderFiresNoLeaderAndPrimaryDownAndRecovers() async throws {
            let (r, fx) = try await run("no-leader")
            #expect(r.observations.harnessErrors.isEmpty, "\(r.observations.harnessErrors)")
            #expect(r.verdicts.allSatisfy { $0.result.status == .passed }, "\(r.verdicts.filter { $0.result.status != .passed }.map { "\($0.id): \($0.result)" })")
            #expect(r.exitCode == 0)
            // The double fault: the sync standby's Patroni paused, then the primary killed.
            let faults = r.observations.events.filter { $0.kind == .faultInjected }.compactMap(\.detail)
            #expect(faults.count == 2 && faults[0].hasPrefix("SIGSTOP patroni") && faults[1].hasPrefix("SIGKILL patroni and postgres"), "\(faults)")
            for c in [Condition.alertFiring(AlertName.primaryDown), .alertFiring(AlertName.noLeader),
                      .alertResolved(AlertName.noLeader), .alertResolved(AlertName.primaryDown), .primaryRecovered] {
                #expect(try conditionVerdict(c, r).result.status == .passed, "\(c)")
            }
            // Nobody took the lock while the fault held: no leader elected between the kill and the heal.
            let killedAt = try #require(r.observations.events.last { $0.kind == .faultInjected }?.atMs)
            let healAt = try #require(r.observations.events.first { $0.kind == .healStarted }?.atMs)
            #expect(!r.observations.events.contains { $0.kind == .leaderElected && $0.atMs > killedAt && $0.atMs < healAt },
                    "no promotion during the fault")
            let noLeaderAt = try #require(r.observations.conditions.first { $0.condition == .alertFiring(AlertName.noLeader) }?.metAtMs)
            #expect(noLeaderAt > killedAt && noLeaderAt < healAt)
            #expect(try verdict("lost-writes", r).result == .passed(measured: .count(0), target: .count(0)))
            #expect((r.observations.readBack?.checked ?? 0) > 0)
            #expect(try verdict("split-brain", r).result.status == .passed)
            try await checkNothingLeft(fx)
        }

        @Test func roguePromoteProvokesAndDetectsASplitBrainAndHealsIt() async throws {
            let (r, fx) = try await run("rogue-promote")
            #expect(r.observations.harnessErrors.isEmpty, "\(r.observations.harnessErrors)")
            #expect(r.verdicts.allSatisfy { $0.result.status == .passed }, "\(r.verdicts.filter { $0.result.status != .passed }.map { "\($0.id): \($0.result)" })")
            #expect(r.exitCode == 0)
            #expect(try conditionVerdict(.alertFiring(AlertName.splitBrain), r).result.status == .passed)
            #expect(try conditionVerdict(.alertResolved(AlertName.splitBrain), r).result.status == .passed)
            // The probes really saw two writers during the fault, and the ordinary split-brain check is replaced.
            let sb = try verdict("split-brain-provoked", r)
            #expect(sb.result == .passed(measured: .count(0), target: .count(0)))
            let rogue = try #require(r.observations.events.first { $0.kind == .faultInjected }?.member)
            #expect(!sb.items.isEmpty && sb.items.allSatisfy { $0.contains(rogue) }, "\(sb.items)")
            #expect(!r.verdicts.contains { $0.id == "split-brain" })
            // Clients kept writing to the real leader: nothing lost.
            #expect(try verdict("lost-writes", r).result == .passed(measured: .count(0), target: .count(0)))
            #expect((r.observations.readBack?.checked ?? 0) > 0)
            #expect(r.observations.topologyAfter?.members.first { $0.name == rogue }?.role.isReplica == true)
            try await checkNothingLeft(fx)
        }

        /// The reversal's fallback. A rogue handed back to Patroni without the reversal's CHECKPOINT (still
        /// running, or crashed: an immediate stop) is *sometimes* left unable to stream: Patroni's pg_rewind
        /// reports "the same timeline" and the node fails with "highest timeline N of the primary is behind
        /// recovery timeline N+1" (3 of 3 tries by hand, 2 running, 1 crashed; 1 of the first 9 attempts
        /// of this test); other times Patroni runs crash recovery first or the rewind works.
        /// Up to 3 attempts (running, crashed, running) to reach the broken state; in whichever state it is,
        /// `rejoinRogue` must bring the node back streaming, reinitializing it exactly when it was not.
        @Test(.nightlyOnly) func rejoinBringsBackARogueHandedBackWithoutACheckpoint() async throws {
            let fx = try await ClusterFixture.ensureUp()
            let env = fx.env
            var reinitialized = false
            for attempt in 1...3 {
                let rogue = try #require(await env.status(withReplication: false).members.first { $0.role == "replica" }?.name)
                let rest = env.config.restURL(try await fx.primaryName())
                func pause(_ on: Bool) throws {
                    let r = try HTTP.request("PATCH", rest + "/config", body: #"{"pause": \#(on)}"#, timeout: .seconds(3))
                    #expect(r.status == 200)
                }
                func inRecovery() throws -> String? {
                    let c = try PGConnection(fx.direct(rogue, user: "postgres", dbname: "postgres"), connectTimeout: .seconds(2))
                    defer { c.close() }
                    return try c.exec("select pg_is_in_recovery()", timeout: .seconds(3)).scalar
                }
                try pause(true)
                do {
                    _ = try await ObservabilityTests.waitUntil(.seconds(15)) {
                        (try? HTTP.get(env.config.restURL(rogue) + "/patroni", timeout: .seconds(1)))?.body.contains(#""pause": true"#) == true
                    }
                    let c = try PGConnection(fx.direct(rogue, user: "postgres", dbname: "postgres"), connectTimeout: .seconds(2))
                    // As the fault does: keep the rogue's timeline out of the shared WAL archive (rejoinRogue resets it).
                    _ = try c.exec("alter system set archive_command = '/bin/true'", timeout: .seconds(5))
                    _ = try c.exec("select pg_reload_conf()", timeout: .seconds(5))
                    try await Task.sleep(for: .milliseconds(500))
                    #expect(try c.exec("select pg_promote(true, 30)", timeout: .seconds(35)).scalar == "t")
                    c.close()
                    if attempt == 2 { try await fx.stopPostgres(node: rogue) }  // immediate stop: a crashed rogue
                    try await Task.sleep(for: .seconds(2))
                    try pause(false)
                } catch {
                    try? pause(false)
                    throw error
                }
                let restarted = try await ObservabilityTests.waitUntil(.seconds(30)) { (try? inRecovery()) == "t" }
                #expect(restarted != nil, "Patroni demoted (or restarted) the rogue, in recovery")
                try await Task.sleep(for: .seconds(8))
                let members = await env.status(withReplication: false).members
                let streamingBefore = try #require(members.first { $0.name == rogue }).state == "streaming"
                let account = try await env.rejoinRogue(rogue)
                print("attempt \(attempt): \(rogue) \(streamingBefore ? "streamed" : "did not stream") after the rejoin by Patroni; rejoinRogue: \(account)")
                #expect(!account.contains("checkpoint;"), "it was already in recovery: \(account)")
                #expect(account.contains("reinitialize") == !streamingBefore, "\(account)")
                try await checkNothingLeft(fx)
                if !streamingBefore { reinitialized = true; break }
            }
            print(reinitialized ? "the reinitialize fallback ran" : "Patroni rewound the rogue by itself in all 3 attempts; the fallback did not run")
        }

        @Test func sigkilledHarnessMidRoguePromoteIsHealedByFaultlineHeal() async throws {
            let fx = try await ClusterFixture.ensureUp()
            let cfg = fx.env.config
            let ledger = JSONFileFaultLedger(url: ScenarioIntegrationTests.ledgerURL(cfg))
            #expect(try await ledger.entries().isEmpty, "a clean ledger before the run")
            let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("faultline-rogue-\(UInt32.random(in: 0...UInt32.max))")
            try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: tmp) }
            let runLog = tmp.appendingPathComponent("run.log"), healLog = tmp.appendingPathComponent("heal.log")
            let run = try ScenarioIntegrationTests.start(["run", "rogue-promote", "--set", "steady=2s", "--set", "rate=50", "--reports", tmp.path], log: runLog)
            var rogue: String?
            do {
                // The fault is in place: its ledger entry is written and the replica runs as a primary.
                let deadline = ContinuousClock.now + .seconds(60)
                while rogue == nil {
                    guard run.isRunning else {
                        throw ScenarioIntegrationTests.Timeout(description: "faultline run ended before the fault: "
                                                               + ((try? String(contentsOf: runLog, encoding: .utf8)) ?? ""))
                    }
                    guard ContinuousClock.now < deadline else { throw ScenarioIntegrationTests.Timeout(description: "no rogue primary after 60 s") }
                    if case .roguePromote(let m)? = try? await ledger.entries().first?.action,
                       let c = try? PGConnection(fx.direct(m, user: "postgres", dbname: "postgres"), connectTimeout: .seconds(1)) {
                        if (try? c.exec("select pg_is_in_recovery()", timeout: .seconds(1)).scalar) == "f" { rogue = m }
                        c.close()
                    }
                    if rogue == nil { try await Task.sleep(for: .milliseconds(100)) }
                }
            } catch {
                kill(run.processIdentifier, SIGKILL)
                throw error
            }
            let m = try #require(rogue)
            kill(run.processIdentifier, SIGKILL)
            try await ScenarioIntegrationTests.wait(run, within: .seconds(10))
            // Left behind: the entry, maintenance mode on, two primaries.
            #expect(try await ledger.entries().map(\.reversal) == [.rejoinRogue(member: m)])
            #expect(fx.env.maintenanceMode() == true)

            let heal = try ScenarioIntegrationTests.start(["heal"], log: healLog)
            try await ScenarioIntegrationTests.wait(heal, within: .seconds(180))
            let out = (try? String(contentsOf: healLog, encoding: .utf8)) ?? ""
            print("rogue \(m) left by a killed faultline; faultline heal: \(out)")
            #expect(heal.terminationStatus == 0, "faultline heal: \(out)")
            #expect(out.contains("1 fault undone"), "\(out)")
            try await checkNothingLeft(fx)
            let c = try PGConnection(fx.direct(m, user: "postgres", dbname: "postgres"), connectTimeout: .seconds(3))
            #expect(try c.exec("select pg_is_in_recovery()", timeout: .seconds(3)).scalar == "t", "\(m) is a replica again")
            c.close()
        }
    }
}
