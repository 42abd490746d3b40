import Faultline
import FaultlineEnvironments
import FaultlineLoad
import FaultlinePG
import Foundation
import Scenarios
import Testing

extension Integration {
    /// The catalogue scenarios whose verdicts were rethought (docs/faults.md, "Measured results"), on the real local
    /// environment through the real runner, environment driver and load generator, fast profile (3 s steady state,
    /// 50 writes/s and reads/s): connection-exhaustion with writers that connect per transaction, partition-replicas
    /// judged on blocked writes instead of an RTO, and partition-clients / packet-loss-30 whose after-heal error
    /// budget counts the requests sent (client backoff reported apart).
    @Suite(.serialized) struct CatalogueGapsIntegrationTests {
        static let fast = ["steady=3s", "rate=50"]

        struct Run {
            var scenario: Scenario
            var obs: Observations
            var verdicts: [Verdict]
            var fixture: ClusterFixture
        }

        func run(_ name: String) async throws -> Run {
            let fx = try await ClusterFixture.ensureUp()
            let cfg = fx.env.config
            let report = try await fx.run(name, overrides: Self.fast, tag: "gap").report
            let obs = report.observations
            #expect(obs.harnessErrors.isEmpty, "\(obs.harnessErrors)")
            // A heal after which the cluster did not settle keeps its ledger entries (by design, for `faultline heal`);
            // its cluster-recovered verdict fails, which the test asserts on.
            if report.verdicts.first(where: { $0.id == "cluster-recovered" })?.result.status != .failed {
                #expect(try await fx.ledger.entries().isEmpty, "every fault reverted and its ledger entry cleared")
            }
            for n in cfg.nodeNames { #expect(try await fx.env.faultRules(n).isEmpty, "FAULTLINE rules left on \(n)") }
            return Run(scenario: report.scenario, obs: obs, verdicts: report.verdicts, fixture: fx)
        }

        func verdict(_ id: String, _ r: Run) throws -> Verdict {
            try #require(r.verdicts.first { $0.id == id }, "no verdict \(id) in \(r.verdicts.map(\.id))")
        }

        /// Every verdict passed, except exactly those named in `skipped`, which must be skipped (a skipped verdict is
        /// not a pass: each one is named here with the reason the scenario skips it).
        func expectNoFailure(_ r: Run, skipped: Set<String> = []) {
            let bad = r.verdicts.filter { skipped.contains($0.id) ? $0.result.status != .skipped : $0.result.status != .passed }
            #expect(bad.isEmpty, "\(bad.map { "\($0.id): \($0.result) \($0.notes)" })")
            #expect(skipped.isSubset(of: Set(r.verdicts.map(\.id))), "declared verdicts: \(r.verdicts.map(\.id))")
        }

        func expectNothingLostAndNoSplitBrain(_ r: Run) throws {
            let lost = try verdict("lost-writes", r)
            #expect(lost.result == .passed(measured: .count(0), target: .count(0)), "\(lost.items.prefix(5))")
            #expect((r.obs.readBack?.checked ?? 0) > 0)
            #expect(r.obs.readBack?.checked == r.obs.load.acked.count)
            #expect(try verdict("split-brain", r).result.status == .passed)
        }

        /// Ledger-writes counts by outcome over windows starting in `range` (ms since load start).
        func writes(_ r: Run, in range: Range<Int>) -> [Outcome: Int] {
            var out: [Outcome: Int] = [:]
            for w in r.obs.load.windows where w.workload == "ledger-writes" && range.contains(w.startMs) {
                if w.ok > 0 { out[.ok, default: 0] += w.ok }
                for (k, v) in w.errors { out[k, default: 0] += v }
            }
            return out
        }

        func faultSpan(_ r: Run) throws -> Range<Int> { try #require(WritePhases.faultSpan(r.obs)) }

        @Test func connectionExhaustionRefusesPerTransactionClientsThenRecovers() async throws {
            let r = try await run("connection-exhaustion")
            #expect(r.scenario.workloads.first { $0.isWrite }?.connect == .perTransaction)
            expectNoFailure(r)
            try expectNothingLostAndNoSplitBrain(r)

            // The fill ended because the server was full, not at a connect that failed otherwise (a timeout on a busy
            // machine once left slots free that the writers and the probe then shared for seconds).
            let held = try #require((r.obs.probes?.notes ?? []).first { $0.hasPrefix("connections on ") }, "the fault's account")
            #expect(PGError.isConnectionLimit(held), "\(held)")

            // During the hold, the per-transaction writers were refused for lack of slots, classified as such.
            let span = try faultSpan(r)
            let during = writes(r, in: span)
            let refused = during[.tooManyConnections] ?? 0
            let total = during.values.reduce(0, +)
            print("connection-exhaustion: during the fault \(during)")
            #expect(refused > 0, "too_many_connections during the fault: \(during)")
            // The fault takes the slots: most writes of the hold's second half are refused (the fill itself takes time).
            let secondHalf = writes(r, in: (span.lowerBound + span.count / 2)..<span.upperBound)
            let shTotal = secondHalf.values.reduce(0, +)
            #expect(shTotal > 0 && Double(secondHalf[.ok] ?? 0) < 0.2 * Double(shTotal), "second half of the hold: \(secondHalf)")
            #expect(total > 0)

            // A client-visible outage that ended after the heal: the RTO spans the hold, writes clean after the heal.
            let rto = try verdict("rto", r)
            #expect(rto.result.status == .passed)
            let healStart = try #require(r.obs.first(.healStarted)?.atMs)
            let injected = try #require(r.obs.injectedAtMs)
            #expect(injected + Int(rto.result.measured?.value ?? 0) >= healStart - 1_000, "writes recovered only once the connections were released: \(rto.notes)")
            #expect(rto.notes.contains { $0.hasPrefix("during the fault") && $0.contains("too_many_connections=") }, "\(rto.notes)")
            let after = try verdict("error-budget-after", r)
            #expect(after.result.status == .passed && after.result.measured != nil, "\(after.result) \(after.notes)")

            // The held sessions are gone (the top-up thread stopped with the reversal): none left by name on any node.
            for n in r.fixture.env.config.nodeNames {
                let c = try PGConnection(r.fixture.direct(n, user: "postgres"), connectTimeout: .seconds(3))
                let left = try c.exec("select count(*) from pg_stat_activity where application_name = 'faultline-fault-connections'",
                                      timeout: .seconds(3)).scalar
                c.close()
                #expect(left == "0", "held connections left on \(n): \(left ?? "?")")
            }
            let app = try PGConnection(r.fixture.rw, connectTimeout: .seconds(3))
            #expect(try app.exec("select 1", timeout: .seconds(3)).scalar == "1", "a new client connects after the heal")
            app.close()
        }

        @Test func partitionReplicasBlocksWritesLosesNothingAndWritesComeBack() async throws {
            let r = try await run("partition-replicas")
            expectNoFailure(r, skipped: ["rto"])  // no RTO target: writes are meant to stay blocked until the heal
            try expectNothingLostAndNoSplitBrain(r)

            #expect(try verdict("rto", r).result.status == .skipped, "no RTO: writes are meant to stay blocked until the heal")
            #expect(!r.verdicts.contains { $0.id == "error-budget-after" })

            let during = try verdict("writes-during-fault", r)
            #expect(during.result == .passed(measured: .count(0), target: .count(0)), "\(during.notes)")
            #expect(during.notes.first?.hasPrefix("writes blocked") == true, "\(during.notes)")
            // The direct probes agree: the primary answered none of its rounds during the partition.
            let primary = try #require(r.obs.primaryAtInjection)
            let span = try faultSpan(r)
            let rounds = (r.obs.probes?.rounds ?? []).filter { span.contains($0.atMs) }
            #expect(!rounds.isEmpty)
            #expect(rounds.allSatisfy { $0.accepted.isEmpty }, "\(rounds.filter { !$0.accepted.isEmpty })")
            #expect(rounds.contains { $0.refused[primary] == "timeout" })
            // No failover: the leader kept its key.
            #expect(r.obs.topologyAfter?.primary?.name == primary)
            #expect(!r.obs.events.contains { $0.kind == .leaderElected && $0.atMs > span.lowerBound && $0.member != primary })

            let back = try verdict("writes-back-after-heal", r)
            #expect(back.result.status == .passed, "\(back.result) \(back.notes)")
            #expect((back.result.measured?.value ?? -1) >= 0)
            let healStart = try #require(r.obs.first(.healStarted)?.atMs)
            #expect((writes(r, in: healStart..<r.obs.endMs)[.ok] ?? 0) > 0, "writes acknowledged after the heal")
        }

        @Test func partitionClientsMeetsTheAfterHealBudgetWithBackoffReportedApart() async throws {
            let r = try await run("partition-clients")
            expectNoFailure(r)
            try expectNothingLostAndNoSplitBrain(r)
            let span = try faultSpan(r)
            let during = writes(r, in: span)
            #expect((during[.ok] ?? 0) == 0 || Double(during[.ok] ?? 0) < 0.1 * Double(during.values.reduce(0, +)),
                    "writes refused while the clients are cut off: \(during)")
            #expect((during[.connectionRefused] ?? 0) + (during[.clientBackoff] ?? 0) > 0, "\(during)")
            let rto = try verdict("rto", r)
            #expect(rto.result.status == .passed && (rto.result.measured?.value ?? 0) > 0, "\(rto.notes)")
            let after = try verdict("error-budget-after", r)
            #expect(after.result.status == .passed && after.result.measured != nil, "\(after.result) \(after.notes)")
            #expect(after.notes.contains { $0.contains("requests sent") }, "\(after.notes)")
        }

        @Test func packetLoss30MeetsTheAfterHealBudgetAndLagRecovers() async throws {
            let r = try await run("packet-loss-30")
            if case .failed(_, _, let why) = try verdict("cluster-recovered", r).result {
                // Seen once in CI (2026-12-01, commit 45aa121), not in 6 runs since: the demoted primary stayed in
                // archive recovery on the old timeline ("n2=unknown/tl2") for the whole 90 s heal. That is Patroni's
                // failure to rejoin, and the verdict says so; the Patroni log tails are in the run's log. Nothing
                // may be lost all the same.
                withKnownIssue("Patroni 4.1.5: the old primary sometimes does not rejoin after 30 % packet loss", isIntermittent: true) {
                    Issue.record("cluster-recovered failed: \(why)")
                }
                try expectNothingLostAndNoSplitBrain(r)
                return
            }
            expectNoFailure(r)
            try expectNothingLostAndNoSplitBrain(r)
            #expect(try verdict("rto", r).result.status == .passed)
            let after = try verdict("error-budget-after", r)
            #expect(after.result.status == .passed && after.result.measured != nil, "\(after.result) \(after.notes)")
            #expect(try verdict("lag-recovery", r).result.status == .passed)
        }
    }
}
