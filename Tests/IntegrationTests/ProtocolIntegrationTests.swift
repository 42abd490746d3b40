import Faultline
import FaultlineLoad
import FaultlinePG
import Foundation
import Testing

extension Integration {
    /// The load generator's three protocols (pgbench -M) against the real local cluster: writes acknowledged and read
    /// back in each, and the known trap of prepared statements through PgBouncer 1.18 in transaction mode.
    @Suite(.serialized) struct ProtocolIntegrationTests {
        static let pgbench = "/usr/lib/postgresql/15/bin/pgbench"

        /// Runs pgbench with `args` and the conninfo last; throws with its output when it fails.
        static func pgbench(_ args: [String], _ conninfo: String) async throws {
            let r = try await Shell.run([pgbench] + args + [conninfo], timeout: .minutes(2))
            guard r.succeeded else { throw PGError(kind: .server, message: "pgbench \(args): \(r.output)") }
        }

        func scalar(_ conninfo: String, _ sql: String) throws -> String? {
            let c = try PGConnection(conninfo, connectTimeout: .seconds(5))
            defer { c.close() }
            return try c.exec(sql, timeout: .seconds(10)).scalar
        }

        /// Ledger writes, replica reads and TPC-B, 2 s each protocol: no error, every acknowledged ledger write in the
        /// database, and TPC-B's own invariants: one history row per acknowledged transaction and the branches'
        /// balances equal to the sum of the history's deltas.
        @Test func everyProtocolWritesAreAcknowledgedAndReadBack() async throws {
            let cluster = try await ClusterFixture.ensureUp()
            try await Self.pgbench(["-i", "-q", "-s", "1"], cluster.rw)
            do { try await everyProtocol(cluster) } catch {
                try? await Self.pgbench(["-i", "-I", "d"], cluster.rw)  // drop the pgbench tables again
                throw error
            }
            try await Self.pgbench(["-i", "-I", "d"], cluster.rw)
        }

        func everyProtocol(_ cluster: ClusterFixture) async throws {
            for proto in QueryProtocol.allCases {
                let historyBefore = try #require(Int(try scalar(cluster.rw, "SELECT count(*) FROM pgbench_history") ?? ""))
                let config = LoadConfig(workloads: [
                    WorkloadConfig(kind: .ledger, conninfo: cluster.rw, clients: 2, queryProtocol: proto),
                    WorkloadConfig(kind: .reads, conninfo: cluster.ro, clients: 2, queryProtocol: proto),
                    WorkloadConfig(kind: .tpcb, conninfo: cluster.rw, clients: 2, queryProtocol: proto),
                ])
                let obs = try await LoadGenerator(config: config, logger: ClusterFixture.logger).run(until: .after(.seconds(2)))
                for name in ["ledger-writes", "replica-reads", "tpcb"] {
                    let t = try #require(obs.totals[name])
                    #expect(t.ok > 20, "\(proto) \(name): \(t.ok) ok")
                    #expect(t.errorCount == 0, "\(proto) \(name): \(t.errors) \(t.otherSQLStates)")
                }
                #expect(obs.acked.count == obs.totals["ledger-writes"]?.ok)
                #expect(obs.indeterminate.isEmpty)
                let missing = try await LoadGenerator.verifyLedger(obs, conninfo: cluster.rw)
                #expect(missing.isEmpty, "\(proto): acknowledged but missing: \(missing.prefix(10))")

                let history = try #require(Int(try scalar(cluster.rw, "SELECT count(*) FROM pgbench_history") ?? ""))
                #expect(history - historyBefore == obs.totals["tpcb"]?.ok, "\(proto): one history row per acknowledged TPC-B transaction")
                let balanced = try scalar(cluster.rw, """
                    SELECT (SELECT sum(bbalance) FROM pgbench_branches) = (SELECT coalesce(sum(delta), 0) FROM pgbench_history)
                       AND (SELECT sum(tbalance) FROM pgbench_tellers) = (SELECT coalesce(sum(delta), 0) FROM pgbench_history)
                    """)
                #expect(balanced == "t", "\(proto): branch and teller balances add up to the history")
            }
        }

        /// PgBouncer 1.18 in transaction mode hands each transaction any server connection: a statement prepared on
        /// one is unknown on the next ("prepared statement ... does not exist", 26000) or already there when another
        /// client prepared it ("... already exists", 42P05). Those requests are errors (other_sqlstate), never
        /// counted ok; what was acknowledged is in the database. Simple and extended through the same pooler: no error.
        @Test func preparedThroughPgBouncerTransactionModeFailsSimpleAndExtendedWork() async throws {
            let cluster = try await ClusterFixture.ensureUp()
            // What an earlier client leaves behind: a statement prepared through the pooler stays in that server session
            // after the client is gone (transaction mode resets nothing), on the server PgBouncer hands out next (LIFO).
            // Without it a fresh pool may, by luck, run a short prepared load with no error.
            let earlier = try PGConnection(cluster.pooler, connectTimeout: .seconds(5))
            try earlier.prepare("fl_ledger_begin", "BEGIN", timeout: .seconds(5))
            earlier.close()
            var results: [QueryProtocol: LoadObservations] = [:]
            for proto in [QueryProtocol.simple, .extended, .prepared] {
                let config = LoadConfig(workloads: [
                    WorkloadConfig(kind: .ledger, conninfo: cluster.pooler, clients: 4, queryProtocol: proto),
                ])
                let obs = try await LoadGenerator(config: config, logger: ClusterFixture.logger).run(until: .after(.seconds(3)))
                let missing = try await LoadGenerator.verifyLedger(obs, conninfo: cluster.rw)
                #expect(missing.isEmpty, "\(proto): acknowledged but missing: \(missing.prefix(10))")
                #expect(obs.indeterminate.isEmpty)
                results[proto] = obs
            }
            for proto in [QueryProtocol.simple, .extended] {
                let t = try #require(results[proto]?.totals["ledger-writes"])
                #expect(t.ok > 50 && t.errorCount == 0, "\(proto) through PgBouncer: \(t.ok) ok, \(t.errors) \(t.otherSQLStates)")
            }
            let prepared = try #require(results[.prepared]?.totals["ledger-writes"])
            #expect(prepared.errors[.otherSQLState, default: 0] > 0, "prepared through PgBouncer (transaction mode): \(prepared.ok) ok, no error")
            #expect(Set(prepared.otherSQLStates.keys).isSubset(of: ["26000", "42P05"]), "\(prepared.otherSQLStates)")
            #expect(prepared.errors.keys.allSatisfy { $0 == .otherSQLState }, "\(prepared.errors)")
            #expect(results[.prepared]?.acked.count == prepared.ok)
        }

        /// `faultline load --jobs 0` (and a non-number): one line, exit 2, nothing run (no --out directory made).
        @Test(arguments: ["0", "257", "two"]) func badJobsIsRefused(_ jobs: String) throws {
            let bin = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("faultline").path
            try #require(FileManager.default.isExecutableFile(atPath: bin), "build the CLI first (swift build)")
            let out = FileManager.default.temporaryDirectory.appendingPathComponent("fl-jobs-\(UInt32.random(in: 0...UInt32.max))").path
            let p = Process()
            p.executableURL = URL(fileURLWithPath: bin)
            p.arguments = ["load", "--workload", "tpcb", "--jobs", jobs, "--duration", "1s", "--out", out]
            p.environment = ProcessInfo.processInfo.environment.merging(ClusterFixture.cliVariables) { $1 }
            let err = Pipe()
            p.standardError = err
            p.standardOutput = Pipe()
            try p.run()
            let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            #expect(p.terminationStatus == 2)
            #expect(text.split(separator: "\n").count == 1, "\(text)")
            #expect(text.contains("--jobs '\(jobs)'") && text.contains("1...256"), "\(text)")
            #expect(!FileManager.default.fileExists(atPath: out))
        }

        /// `faultline load --protocol binary`: one line, exit 2, nothing run (no --out directory made).
        @Test func unknownProtocolIsRefused() async throws {
            let out = FileManager.default.temporaryDirectory.appendingPathComponent("fl-protocol-\(UInt32.random(in: 0...UInt32.max))").path
            let r = try await Shell.faultline(["load", "--workload", "tpcb", "--protocol", "binary", "--duration", "1s", "--out", out])
            let text = r.stderr
            #expect(r.status == 2)
            #expect(text.split(separator: "\n").count == 1, "\(text)")
            #expect(text.contains("--protocol") && text.contains("'binary'") && text.contains("use simple, extended or prepared"), "\(text)")
            #expect(!FileManager.default.fileExists(atPath: out))
        }
    }
}
