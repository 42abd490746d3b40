import Faultline
import FaultlineLoad
import FaultlinePG
import FaultlineWiring
import Foundation
import Testing

extension Integration {
    /// PgBouncer's two pool modes against the real local cluster: session state breaks in transaction mode and holds
    /// in session mode; a tiny `bench pooler` fills every cell, and over max_connections only direct is refused.
    @Suite(.serialized) struct PoolerIntegrationTests {
        func sessionWorkload(_ conninfo: String) async throws -> WorkloadTotals {
            let config = LoadConfig(workloads: [WorkloadConfig(kind: .session, conninfo: conninfo, clients: 8)])
            let obs = try await LoadGenerator(config: config, logger: ClusterFixture.logger).run(until: .after(.seconds(2)))
            return obs.totals["session-state"] ?? WorkloadTotals()
        }

        @Test func sessionStateBreaksInTransactionModeAndHoldsInSessionMode() async throws {
            let fx = try await ClusterFixture.ensureUp()
            let session = try await sessionWorkload(fx.env.config.poolerSession)
            #expect(session.ok > 100, "session mode served the session workload: \(session)")
            #expect(session.errorCount == 0, "every read-back in session mode is the client's own: \(session.errors) \(session.otherSQLStates)")

            let transaction = try await sessionWorkload(fx.pooler)
            let lost = transaction.otherSQLStates["none"] ?? 0
            #expect(lost > 0, "8 clients sharing transaction-mode server connections read other sessions' state: \(transaction)")
            #expect(transaction.errors.keys.allSatisfy { $0 == .otherSQLState }, "nothing else failed: \(transaction.errors)")
        }

        /// Persistent connections only: with a new connection per transaction at 120 clients, PgBouncer's server logins
        /// outlast its `server_connect_timeout` (2 s) when other work saturates the 2 cores, and it refuses clients
        /// (docs/pooler.md); that is measured by the bench, not asserted here.
        @Test func tinyBenchFillsEveryCellAndOnlyDirectRunsOutOfConnections() async throws {
            _ = try await ClusterFixture.ensureUp()
            let plan = try PoolerBenchPlan(PoolerBenchSettings(workloads: ["ledger"], clients: [2, 120], rounds: 1, cellMs: 1000,
                                                               connects: [.persistent]),
                                           knownWorkloads: PoolerBenchSession.workloadNames)
            let targets = try await PoolerBenchSession.targets(ClusterFixture.driver)
            let session = PoolerBenchSession(plan: plan, targets: targets, logger: ClusterFixture.logger)
            let facts = await session.serverFacts()
            #expect(facts.maxConnections == 100)
            let runs = try await session.run()
            let cells = PoolerBenchResult.summarize(plan, runs: runs)
            #expect(cells.count == 6)
            for c in cells {
                // Every cell was measured: its requests counted (acknowledged or failed by class) and its server
                // connections sampled.
                #expect(c.runs.count == 1 && c.runs[0].failure == nil && c.runs[0].ok + c.runs[0].errors.values.reduce(0, +) > 0
                        && c.runs[0].serverConnectionsPeak != nil, "\(c.cell) has data: \(c.runs)")
                // Every route serves: at 2 clients every cell, at 120 the direct one (the admitted clients). PgBouncer at
                // 120 clients is not asserted to serve: when other work saturates the 2 cores its server logins outlast
                // server_connect_timeout (2 s) and it refuses clients ("server login has been failing"; docs/pooler.md).
                if c.cell.clients == 2 || c.cell.route == .direct {
                    #expect(c.runs[0].ok > 0 && c.median.tps > 0 && c.runs[0].latency != nil && c.runs[0].connect != nil, "\(c.cell) served: \(c.runs)")
                }
                if c.cell.route != .direct {
                    #expect(c.runs[0].tooManyConnections == 0, "PgBouncer queues instead of refusing: \(c.cell) \(c.runs[0].errors)")
                    #expect(c.ratio?.tps != nil, "\(c.cell) has its TPS ratio to direct")
                }
            }
            let over = try #require(cells.first { $0.cell == PoolerCell(workload: "ledger", route: .direct, connect: .persistent, clients: 120) })
            #expect(over.runs[0].tooManyConnections > 0, "120 clients direct against max_connections 100: \(over.runs[0].errors)")
            let pooled = try #require(cells.first { $0.cell == PoolerCell(workload: "ledger", route: .transaction, connect: .persistent, clients: 120) })
            #expect((pooled.runs[0].serverConnectionsPeak ?? 999) <= 30, "transaction mode used at most its pool (20 + 5 reserve): \(pooled.runs[0])")
            #expect(over.runs[0].serverConnectionsPeak ?? 0 > 30, "direct used a server connection per admitted client: \(over.runs[0])")
        }

        @Test func benchWithoutPgBouncerOrWithNonsenseIsOneLineExit2() async throws {
            let empty = FileManager.default.temporaryDirectory.appendingPathComponent("faultline-nopooler-\(UInt32.random(in: 0...UInt32.max))")
            try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: empty) }
            let cases: [([String], [String: String], String)] = [
                (["bench", "pooler", "--rounds", "1"], ["FAULTLINE_STATE_DIR": empty.path, "FAULTLINE_NAME_PREFIX": "fznone"], "is not up, so there is no PgBouncer"),
                (["bench", "pooler", "--workload", "nosuch"], [:], "unknown workload 'nosuch'"),
                (["bench", "pooler", "--clients", "0,150"], [:], "client count 0 is out of range"),
                (["bench", "pooler", "--clients", "eight"], [:], "not a comma-separated list"),
                (["bench", "pooler", "--rounds", "0"], [:], "--rounds 0 is out of range"),
                (["bench", "pooler", "--warmup", "2m"], [:], "warm-up of 120000 ms is out of range"),
            ]
            for (args, env, expected) in cases {
                let r = try await Shell.faultline(args, extra: env)
                let (text, stdout) = (r.stderr, r.stdout)
                #expect(r.status == 2, "\(args): \(text)")
                #expect(text.contains(expected) && text.split(separator: "\n").count == 1, "\(args): \(text)")
                #expect(stdout.isEmpty, "nothing run: \(stdout)")
            }
        }
    }
}
