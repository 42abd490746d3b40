import Faultline
import FaultlineEnvironments
import FaultlineLoad
import FaultlinePG
import FaultlineWiring
import Foundation
import Testing

extension Integration {
    /// `faultline queries report` on the real environment (docs/query-optimization.md): a short run of the slow-query
    /// workload on at least 200,000 orders (the table the migration tests seeded, when they ran first), which must rank
    /// an unindexed lookup first, propose the time window's index, which HypoPG costs lower, apply its migration and
    /// measure a lower mean after; and the bad input, through the CLI.
    @Suite(.serialized) struct QueriesIntegrationTests {
        @Test func reportRanksProposesAppliesAndMeasures() async throws {
            let fx = try await ClusterFixture.ensureUp()
            let session = try QueriesReportSession(workload: "orders-slow", orders: 200_000, readers: 3, writers: 1, seconds: 8,
                                                   command: "QueriesIntegrationTests", commit: nil)
            let started = ContinuousClock.now
            let r = try await session.run(fx.env) { print("queries: \($0)") }
            print("queries report in \(started.duration(to: .now))")

            // Ranked: a lookup no index serves as written costs most in all (which of the two depends on the plan the
            // table's statistics give the time window: a Seq Scan, or a whole scan of (customer_id, created_at)).
            let first = try #require(r.rankedByTotal.first)
            #expect(["time-window", "comment-search"].contains(SlowQueryWorkload.orders.query(matching: first.query)?.name),
                    "\(r.rankedByTotal.map(\.query))")
            #expect(Set(r.findings.compactMap(\.name)) == ["time-window", "comment-search", "recent-page"], "\(r.findings.map(\.statement.query))")
            #expect(r.rankedByTotal.count == 3 && r.rankedByMean.count == 3)
            let window = try #require(r.findings.first { $0.name == "time-window" })
            #expect(window.planBefore?.root.all.contains { $0.indexName == "orders_created_at_idx" } == false)
            let idx = IndexCandidate(table: "orders", keys: ["created_at"])
            #expect(window.proposals.contains { $0.index == idx }, "\(window.proposals)")
            let hypo = try #require(window.hypo.first { $0.index == idx })
            #expect(hypo.used && hypo.costWith < hypo.costWithout && hypo.worthBuilding, "\(hypo)")
            // Applied as its migration, built concurrently, valid; the plan after uses it.
            #expect(r.migrations.contains { $0.revision == "0013" && $0.proposed })
            #expect(try await fx.env.applicationRevisionName() >= "0013")
            let c = try PGConnection(fx.env.applicationConninfo, connectTimeout: .seconds(5))
            defer { c.close() }
            #expect(try c.exec("SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'orders_created_at_idx'").scalar == "t")
            #expect(window.planAfter?.root.all.contains { $0.indexName == "orders_created_at_idx" } == true, "\(window.planAfter?.lines ?? [])")
            #expect(try c.exec("SELECT count(*) FROM pg_extension WHERE extname = 'hypopg'").scalar == "0", "HypoPG dropped after the check")
            // Measured: a lower mean after, for the same requests; the writes were measured both times.
            let latency = try #require(r.latency.first { $0.name == "time-window" })
            #expect(latency.before.count > 0 && latency.after.count == latency.before.count, "the same requests replayed")
            #expect(latency.after.meanMs < latency.before.meanMs, "\(latency)")
            let insert = try #require(r.latency.first { $0.name == "insert" })
            #expect(insert.write && insert.before.count > 0 && insert.after.count > 0)
            let alone = try #require(r.writesAlone.first { $0.name == "insert" })
            #expect(alone.before.count > 0 && alone.after.count == alone.before.count, "the same writes replayed alone: \(alone)")
            // OFFSET paging: a rewrite, not an index.
            if let page = r.findings.first(where: { $0.name == "recent-page" }) {
                #expect(page.proposals.contains { $0.kind == .rewrite }, "\(page.proposals)")
                #expect(page.sqlAfter?.contains("WHERE id < $1") == true)
            }
        }

        @Test func badInputIsOneLineAndExit2() async throws {
            let fx = try await ClusterFixture.ensureUp()
            let before = try await fx.env.applicationRevisionName()
            let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("faultline-queries-\(UInt32.random(in: 0...UInt32.max))")
            try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
            let log = tmp.appendingPathComponent("out.log")
            let p = try ScenarioIntegrationTests.start(["queries", "report", "--workload", "nope", "--output", tmp.appendingPathComponent("r").path], log: log)
            try await ScenarioIntegrationTests.wait(p, within: .seconds(30))
            let out = try String(contentsOf: log, encoding: .utf8)
            #expect(p.terminationStatus == 2, "\(out)")
            #expect(out.split(separator: "\n").count == 1 && out.contains("unknown workload 'nope'") && out.contains("orders-slow"), "\(out)")
            #expect(!FileManager.default.fileExists(atPath: tmp.appendingPathComponent("r").path))
            #expect(try await fx.env.applicationRevisionName() == before, "nothing changed")
        }
    }
}
