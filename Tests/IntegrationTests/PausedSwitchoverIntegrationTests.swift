import Faultline
import FaultlineEnvironments
import FaultlinePG
import FaultlineWiring
import Foundation
import Testing

extension Integration {
    /// The planned switchover behind a paused PgBouncer on the real local environment (docs/rto.md, "The pooler during a
    /// switchover"): the writes go through PgBouncer, none fails, none is lost, the longest wait is reported, and
    /// PgBouncer is resumed (not left paused) with nothing left in the fault ledger.
    @Suite(.serialized) struct PausedSwitchoverIntegrationTests {
        @Test func switchoverPausedWaitsInsteadOfFailing() async throws {
            let fx = try await ClusterFixture.ensureUp()
            let before = try await fx.primaryName()
            let o = try await fx.run("switchover-paused", overrides: ["steady=3s", "rate=50", "observe=3s", "p99=1s"], tag: "it")
            let r = o.report
            func v(_ id: String) throws -> Verdict { try #require(r.verdicts.first { $0.id == id }, "no verdict \(id) in \(r.verdicts.map(\.id))") }
            #expect(r.status == "passed", "\(r.verdicts.filter { $0.result.status != .passed }.map { "\($0.id): \($0.result.message ?? "")" })")
            #expect(r.scenario.writesVia == .pooler)
            #expect(try v("write-errors").result == .passed(measured: .count(0), target: .count(0)))
            #expect(try v("lost-writes").result.measured == .count(0))
            let wait = try #require(try v("longest-write-wait").result.measured)
            #expect(wait.unit == .ms && wait.value > 0, "the longest wait of a write is reported: \(wait)")
            #expect(try v("await-new-primary-routed").result.status == .passed)
            // Every write went through PgBouncer and was acknowledged by a primary; the leader moved.
            #expect(r.observations.topologyAfter?.primary?.name != before)
            // PgBouncer resumed: a query through it answers at once, RESUME finds it not paused (PgBouncer 1.18 has no
            // SHOW STATE), nothing left to undo.
            let c = try PGConnection(fx.env.config.pooler, connectTimeout: .seconds(2))
            defer { c.close() }
            #expect(try c.exec("select 1", timeout: .seconds(2)).scalar == "1")
            #expect(try await fx.env.resumePooler() == false, "PgBouncer was left paused")
            #expect(try await fx.ledger.entries().isEmpty)
            let log = try String(contentsOfFile: fx.env.config.stateDir + "/commands.log", encoding: .utf8)
            let tail = log.split(separator: "\n").suffix(400)
            #expect(tail.contains { $0.contains("PAUSE") } && tail.contains { $0.contains("RESUME") }, "PAUSE and RESUME in commands.log")
        }
    }
}
