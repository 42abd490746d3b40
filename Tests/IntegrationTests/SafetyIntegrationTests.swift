import Faultline
import FaultlineEnvironments
import FaultlineWiring
import Foundation
import Testing

extension Integration {
    /// Safety limits on the real local environment: a steady state that does not hold injects nothing, an abort
    /// condition heals at once, a fault outside the blast radius is refused. Each ends the run aborted (exit 7), with the
    /// cluster healthy and the fault ledger empty afterwards, and the acknowledged writes still read back.
    @Suite(.serialized) struct SafetyLimits {
        /// The cluster after an aborted run: healthy by the one health rule, the fault ledger empty, and nothing lost.
        func checkHealedAfterAbort(_ fx: ClusterFixture, _ o: RunSession.Outcome) async throws {
            let r = o.report
            #expect(r.exitCode == ExitStatus.aborted.rawValue && r.status == "aborted", "\(r.verdicts.map { "\($0.id)=\($0.result)" })")
            #expect(try await fx.ledger.entries().isEmpty, "the aborted run healed its faults")
            let status = try await fx.env.status(withReplication: false)
            #expect(status.healthy, "healthy after the aborted run: \(status.problems)")
            let lost = try #require(r.verdicts.first { $0.id == "lost-writes" })
            #expect(lost.result.status == .passed, "the writes were still read back: \(lost.result)")
            #expect((r.observations.readBack?.checked ?? 0) > 0)
        }

        @Test func aSteadyStateThatDoesNotHoldInjectsNothing() async throws {
            let fx = try await ClusterFixture.ensureUp()
            let primary = try await fx.primaryName()
            // A p99 of 1 ms cannot hold: every write waits for a synchronous standby's flush.
            let o = try await fx.run("kill-primary", overrides: ["steady=5s", "steady-p99=1ms"], tag: "steady")
            try await checkHealedAfterAbort(fx, o)
            let r = o.report
            let steady = try #require(r.verdicts.first { $0.id == "steady-state" })
            #expect(steady.result.status == .aborted)
            #expect(steady.result.message?.contains("steady state not met") == true && steady.result.message?.contains("p99") == true,
                    "\(steady.result)")
            #expect(!r.observations.events.contains { $0.kind == .faultInjected }, "no fault went in")
            #expect(r.observations.safetyAbort?.cause == .steadyState && r.observations.safetyAbort?.afterInjection == false)
            #expect(try await fx.primaryName() == primary, "the primary was never touched")
            let rto = try #require(r.verdicts.first { $0.id == "rto" })
            #expect(rto.result.status == .skipped && rto.result.message?.contains("not judged") == true)
        }

        @Test func anErrorRateAbortHealsAtOnce() async throws {
            let fx = try await ClusterFixture.ensureUp()
            // Killing the primary fails every write (half the requests: the replica reads go on) until a replica is
            // promoted, some 20 s later; the abort holds after 2 s of it.
            let o = try await fx.run("kill-primary", overrides: ["steady=5s"], abort: ["error-rate>30%/2s"], tag: "abort")
            try await checkHealedAfterAbort(fx, o)
            let r = o.report
            let abort = try #require(r.verdicts.first { $0.id == "abort" })
            #expect(abort.result.status == .aborted && abort.result.message?.contains("error rate above 30 %") == true, "\(abort.result)")
            let a = try #require(r.observations.safetyAbort)
            #expect(a.cause == .condition && a.condition == .errorRate(above: 0.3, for: .seconds(2)) && a.afterInjection)
            let injected = try #require(r.observations.injectedAtMs)
            #expect(a.atMs - injected < 10_000, "aborted within 10 s of the kill, before any failover could end it: \(a.atMs - injected) ms")
            let healed = try #require(r.observations.events.first { $0.kind == .healStarted && $0.atMs >= a.atMs })
            #expect(healed.atMs - a.atMs < 2_000, "the heal began at once")
            #expect(!r.observations.events.contains { $0.kind == .conditionMet && $0.detail?.contains("new primary") == true && $0.atMs > a.atMs },
                    "no step ran after the abort")
        }

        @Test func aDiskFreeAbortStopsFillDisk() async throws {
            let fx = try await ClusterFixture.ensureUp()
            // fill-disk fills the primary's data volume to 90 %: 10 % free is below the 20 % agreed.
            let o = try await fx.run("fill-disk", overrides: ["steady=5s"], abort: ["disk-free<20%"], tag: "disk")
            try await checkHealedAfterAbort(fx, o)
            let a = try #require(o.report.observations.safetyAbort)
            #expect(a.condition == .diskFree(below: 0.2) && a.reason.contains("free"), "\(a.reason)")
            #expect(o.report.observations.events.filter { $0.kind == .faultInjected }.count == 1, "the second fill never went in")
        }

        @Test func anEnvironmentWithoutTheOwnershipStampIsNotTouchedUnlessNamed() async throws {
            let fx = try await ClusterFixture.ensureUp()
            let stamp = URL(fileURLWithPath: OwnershipStamp.path(fx.env.config))
            let aside = stamp.appendingPathExtension("aside")
            try FileManager.default.moveItem(at: stamp, to: aside)
            defer { try? FileManager.default.moveItem(at: aside, to: stamp) }
            let primary = try await fx.primaryName()
            let o = try await fx.run("kill-primary", overrides: ["steady=5s"], tag: "radius")
            try await checkHealedAfterAbort(fx, o)
            let r = o.report
            let a = try #require(r.observations.safetyAbort)
            #expect(a.cause == .blastRadius && a.reason.contains("not brought up by Faultline") && a.reason.contains("--target environment"),
                    "\(a.reason)")
            #expect(r.observations.events.contains { $0.kind == .faultRefused })
            #expect(!r.observations.events.contains { $0.kind == .faultApplied }, "the kill never went in")
            #expect(try await fx.primaryName() == primary, "the primary was never touched")
        }
    }
}
