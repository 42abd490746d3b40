import Faultline
import FaultlineLoad
import FaultlinePG
import Foundation
import Testing

extension Integration {
    /// The load generator against the real local cluster: the ledger through PgBouncer, and a primary
    /// stopped mid-run (classification, reconnection, no acknowledged write lost).
    @Suite(.serialized) struct LoadIntegrationTests {
        struct Timeout: Error, CustomStringConvertible { var description: String }

        /// Polls `condition` every 100 ms; throws after `limit`.
        func waitUntil(_ what: String, within limit: Duration, _ condition: () -> Bool) async throws {
            let deadline = ContinuousClock.now + limit
            while !condition() {
                guard ContinuousClock.now < deadline else { throw Timeout(description: "timed out after \(limit) waiting for \(what)") }
                try await Task.sleep(for: .milliseconds(100))
            }
        }

        @Test func ledgerWritesThroughPgBouncerAreAllInTheDatabase() async throws {
            let cluster = try await ClusterFixture.ensureUp()
            let config = LoadConfig(workloads: [
                WorkloadConfig(kind: .ledger, conninfo: cluster.pooler, clients: 4, mode: .open(rate: 200, arrival: .uniform)),
            ])
            let generator = try LoadGenerator(config: config, logger: ClusterFixture.logger)
            let obs = try await generator.run(until: .after(.seconds(5)))

            let totals = try #require(obs.totals["ledger-writes"])
            #expect(totals.errorCount == 0, "errors on a healthy cluster: \(totals.errors) \(totals.otherSQLStates)")
            // 200/s for 5 s is 1000 intended writes; every one that was sent must be acknowledged.
            #expect(obs.acked.count == totals.ok)
            #expect(obs.acked.count + totals.unsent == 1000)
            #expect(obs.indeterminate.isEmpty)
            #expect(Set(obs.acked.map(\.id)).count == obs.acked.count, "ids are unique")
            // A node of this environment's subnet (FAULTLINE_SUBNET), not necessarily the default 10.77.0.0/24.
            let nodePrefix = cluster.env.config.prefix + "."
            #expect(obs.acked.allSatisfy { $0.server.hasPrefix(nodePrefix) && $0.server.contains("/tl") }, "\(obs.acked.first?.server ?? "-")")
            #expect(obs.runID == config.runID)
            #expect(obs.windows.contains { $0.ok > 0 && $0.p99Us != nil })

            let missing = try await LoadGenerator.verifyLedger(obs, conninfo: cluster.rw)
            #expect(missing.isEmpty, "acknowledged but missing: \(missing.prefix(20))")

            // The check can fail: ids that were never written are reported missing.
            let bogus = AckedWrite(id: "w99-1", startMs: 0, ackMs: 1, server: "x")
            let check = try await LoadGenerator.verifyLedger(acked: Array(obs.acked.prefix(3)) + [bogus], runID: config.runID, conninfo: cluster.rw)
            #expect(check == ["w99-1"])
        }

        @Test func primaryStoppedMidRunErrorsAreClassifiedAndNoAcknowledgedWriteIsLost() async throws {
            let cluster = try await ClusterFixture.ensureUp()
            let primary = try await cluster.primaryName()
            var config = LoadConfig(workloads: [
                WorkloadConfig(kind: .ledger, conninfo: cluster.rw, clients: 4, mode: .open(rate: 200, arrival: .uniform)),
            ])
            config.connectTimeout = .seconds(2)
            config.statementTimeout = .seconds(3)
            let generator = try LoadGenerator(config: config, logger: ClusterFixture.logger)

            async let observed = generator.run(until: .after(.seconds(150)))
            do {
                try await waitUntil("steady load", within: .seconds(30)) { generator.snapshot().ok >= 200 }
                let faultMs = Int(generator.snapshot().elapsed.components.seconds * 1000)
                try await cluster.stopPostgres(node: primary)
                try await waitUntil("errors after the stop", within: .seconds(30)) { generator.snapshot().errorCount > 0 }
                let okAtErrors = generator.snapshot().ok
                // Patroni restarts the node or fails over; the workers must reconnect and keep going.
                try await waitUntil("writes again after the stop", within: .seconds(120)) { generator.snapshot().ok >= okAtErrors + 400 }
                generator.stop()
                let obs = try await observed

                let totals = try #require(obs.totals["ledger-writes"])
                #expect(totals.errorCount > 0)
                // Every error falls in a known class; nothing unexplained.
                #expect(totals.errors[.otherSQLState] == nil, "unclassified SQLSTATEs: \(totals.otherSQLStates)")
                let windows = obs.windows.filter { $0.workload == "ledger-writes" }
                let firstError = try #require(windows.first { $0.startMs >= faultMs - 100 && $0.errorCount > 0 })
                let lastError = try #require(windows.last { $0.errorCount > 0 })
                #expect(windows.contains { $0.startMs > lastError.startMs && $0.ok > 0 }, "ok windows after the last error")
                #expect(windows.filter { $0.startMs > firstError.startMs && $0.ok > 0 }.count >= 10)

                // Indeterminate writes are kept apart from acknowledged ones.
                #expect(Set(obs.acked.map(\.id)).isDisjoint(with: obs.indeterminate.map(\.id)))

                let missing = try await LoadGenerator.verifyLedger(obs, conninfo: cluster.rw)
                #expect(missing.isEmpty, "acknowledged but missing after recovery: \(missing.prefix(20))")
                let servers = obs.acked.reduce(into: [String]()) { if $0.last != $1.server { $0.append($1.server) } }
                print("load after stopping \(primary): ok \(totals.ok), errors \(totals.errors.sorted { $0.key < $1.key }.map { "\($0.key.rawValue)=\($0.value)" }), "
                      + "indeterminate \(obs.indeterminate.count), error windows \(firstError.startMs)...\(lastError.startMs) ms, servers \(servers), missing \(missing.count)")
            } catch {
                generator.stop()
                _ = try? await observed
                throw error
            }
        }
    }
}
