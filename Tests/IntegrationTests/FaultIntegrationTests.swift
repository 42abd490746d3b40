import Faultline
import FaultlineEnvironments
import FaultlineLoad
import FaultlinePG
import FaultlineWiring
import Foundation
import Scenarios
import Testing

extension Integration {
    /// The fault catalogue on the real local environment, fast profile (3 s steady state, 50 writes/s):
    /// each scenario through the real runner, environment driver and load generator; verdicts asserted;
    /// and nothing of the fault left behind (no FAULTLINE rule, qdisc, ballast, stopped process).
    @Suite(.serialized) struct FaultIntegrationTests {
        static let fast = ["steady=3s", "rate=50"]

        func run(_ name: String) async throws -> (Observations, [Verdict], ClusterFixture) {
            let fx = try await ClusterFixture.ensureUp()
            let report = try await fx.run(name, overrides: Self.fast, tag: "fit").report
            #expect(try await fx.ledger.entries().isEmpty, "every fault reverted and its ledger entry cleared")
            try await expectNothingLeft(fx)
            return (report.observations, report.verdicts, fx)
        }

        func verdict(_ id: String, _ vs: [Verdict]) throws -> Verdict {
            try #require(vs.first { $0.id == id }, "no verdict \(id) in \(vs.map(\.id))")
        }

        /// No FAULTLINE rule, no qdisc we add, no ballast, no stopped process, in any namespace of the environment.
        func expectNothingLeft(_ fx: ClusterFixture) async throws {
            let env = fx.env
            for n in env.config.nodeNames {
                #expect(try await env.faultRules(n).isEmpty, "FAULTLINE rules left on \(n)")
                let q = try await env.runner.run(["/usr/sbin/tc", "-n", env.config.nodeNetns(n), "qdisc", "show", "dev", "eth0"], check: false)
                #expect(!q.stdout.contains("htb") && !q.stdout.contains("tbf") && !q.stdout.contains("netem"), "qdisc left on \(n): \(q.stdout)")
                let files = (try? FileManager.default.contentsOfDirectory(atPath: env.config.dataMount(n))) ?? []
                #expect(!files.contains { $0.hasPrefix("faultline-ballast") }, "ballast left on \(n)")
            }
            for ns in env.config.allNetns {
                for pid in try await env.pidsIn(ns) { #expect(LocalEnvironment.processState(pid) != "T", "pid \(pid) in \(ns) still stopped") }
            }
        }

        @Test func exactReversalDeletesOnlyItsOwnRulesAndIsIdempotent() async throws {
            let fx = try await ClusterFixture.ensureUp()
            let env = fx.env, n = env.config.nodeNames[0]
            // percent 0: rules that match nothing, so the cluster is not disturbed.
            let a = PacketFilter(peers: [.anyHost], percent: 0)
            let b = PacketFilter(peers: [.clients], services: [.patroni], percent: 0)
            try await env.dropPackets(n, a)
            try await env.dropPackets(n, b)
            let both = try await env.faultRules(n)
            #expect(both.count == env.packetRules(a, on: n).first.count + env.packetRules(a, on: n).drops.count + env.packetRules(b, on: n).drops.count)
            try await env.restorePackets(n, a)
            let left = try await env.faultRules(n)
            #expect(left.count == env.packetRules(b, on: n).drops.count)
            #expect(left.allSatisfy { $0.contains("10.") && $0.contains("8008") }, "only b's rules remain: \(left)")
            try await env.restorePackets(n, b)
            try await env.restorePackets(n, b)  // idempotent
            #expect(try await env.faultRules(n).isEmpty)
            let hooks = try await env.runner.run(["/usr/sbin/ip", "netns", "exec", env.config.nodeNetns(n), "/usr/sbin/iptables", "-S"])
            #expect(!hooks.stdout.contains("FAULTLINE"), "chain and hooks removed once empty")
        }

        @Test func isolatePrimaryFailsOverWithoutSplitBrainOrLoss() async throws {
            let (obs, v, _) = try await run("isolate-primary")
            #expect(obs.harnessErrors.isEmpty, "\(obs.harnessErrors)")
            #expect(try verdict("await-new-primary", v).result.status == .passed)
            let lost = try verdict("lost-writes", v)
            #expect(lost.result == .passed(measured: .count(0), target: .count(0)), "\(lost.items.prefix(5))")
            #expect((obs.readBack?.checked ?? 0) > 0)
            let sb = try verdict("split-brain", v)
            #expect(sb.result.status == .passed, "\(sb.items)")
            // The probes really reached every member during the fault, and saw the leadership move.
            let p = try #require(obs.probes)
            let old = try #require(obs.primaryAtInjection)
            let inj = try #require(obs.injectedAtMs)
            #expect(p.rounds.count >= 10)
            #expect(p.rounds.contains { $0.atMs > inj && !$0.accepted.isEmpty && !$0.accepted.contains(old) }, "a new primary accepted writes")
            #expect(p.rounds.allSatisfy { $0.accepted.count <= 1 })
            #expect(try verdict("settle-cluster-healthy", v).result.status == .passed)
        }

        @Test func netemIsReportedSkippedNeverPassed() async throws {
            let (obs, v, _) = try await run("latency-netem")
            if obs.unsupported == nil {
                // A kernel with netem: the fault must really have been applied, and judged like any other.
                #expect(obs.events.contains { $0.kind == .faultApplied })
                #expect(!v.contains { $0.id == "fault" })
            } else {
                #expect(obs.unsupported?.isEmpty == false)
                #expect(try verdict("fault", v).result.message?.contains("unsupported by this kernel") == true)
                #expect(v.allSatisfy { $0.result.status == .skipped }, "\(v.map { "\($0.id)=\($0.result.status)" })")
                #expect(ExitStatus.of(v) != .targetFailed && ExitStatus.of(v) != .harnessError)
                #expect(obs.harnessErrors.isEmpty)
            }
        }

        @Test func fillDiskThenRecoversAfterBallastRemoval() async throws {
            let (obs, v, fx) = try await run("fill-disk")
            #expect(obs.harnessErrors.isEmpty, "\(obs.harnessErrors)")
            let notes = obs.probes?.notes ?? []
            #expect(notes.contains { $0.contains("fill-disk") && $0.contains("-> 100 %") }, "\(notes)")
            #expect(try verdict("lost-writes", v).result == .passed(measured: .count(0), target: .count(0)))
            #expect(try verdict("settle-cluster-healthy", v).result.status == .passed)
            #expect(try verdict("split-brain", v).result.status == .passed)
            for n in fx.env.config.nodeNames { #expect((fx.env.volumeUsage(n)?.percent ?? 100) < 80) }
            // With the primary's disk full the load's writes failed (the probe's tiny inserts may still fit in a page).
            let inj = try #require(obs.injectedAtMs)
            #expect(obs.load.windows.contains { $0.startMs > inj && $0.errorCount > 0 }, "writes failed on the full disk")
        }

        @Test(.nightlyOnly) func pausePatroniFailsOverWithoutSplitBrain() async throws {
            let (obs, v, _) = try await run("pause-patroni")
            #expect(obs.harnessErrors.isEmpty, "\(obs.harnessErrors)")
            #expect(try verdict("await-new-primary", v).result.status == .passed)
            #expect(try verdict("split-brain", v).result.status == .passed)
            #expect(try verdict("lost-writes", v).result == .passed(measured: .count(0), target: .count(0)))
            #expect(try verdict("settle-cluster-healthy", v).result.status == .passed)
        }

        @Test func replicaLagGrowsDuringTheFaultAndRecoversAfter() async throws {
            let (obs, v, fx) = try await run("replica-lag")
            #expect(obs.harnessErrors.isEmpty, "\(obs.harnessErrors)")
            let lag = try verdict("lag-recovery", v)
            #expect(lag.result.status == .passed, "\(lag.result) \(lag.notes)")
            let p = try #require(obs.probes)
            let inj = try #require(obs.injectedAtMs), healed = try #require(obs.healFinishedAtMs)
            let during = p.lag.filter { $0.atMs > inj + 5_000 && $0.atMs < healed }.compactMap(\.bytes).max() ?? 0
            #expect(during > 50_000, "replay lag grew while the replica's link was throttled (max \(during) bytes)")
            for n in fx.env.config.nodeNames {
                let c = try PGConnection(fx.direct(n, user: "postgres", dbname: "postgres"))
                defer { c.close() }
                if try c.exec("select pg_is_in_recovery()").scalar == "t" {
                    #expect(try c.exec("select pg_is_wal_replay_paused()").scalar == "f", "replay resumed on \(n)")
                }
            }
        }
    }
}
