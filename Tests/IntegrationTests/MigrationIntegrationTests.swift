import Faultline
import FaultlineEnvironments
import FaultlineLoad
import FaultlinePG
import Foundation
import Logging
import Testing

extension Integration {
    /// Schema migrations of the demo orders application on the real local environment, under load (docs/migrations.md):
    /// each safe migration passes every migration verdict, each naive twin fails the one it must, with its reason; the CI
    /// pipeline halts on a failing migration and rolls back while the application keeps being served. The first test
    /// seeds the 1-million-row table once (about 30 s); the rest reuse it.
    @Suite(.serialized) struct MigrationIntegrationTests {
        static let fast = ["steady=5s"]
        static let migrationVerdicts = ["operation-migrate", "app-errors", "migration-p99", "lock-wait", "replica-lag", "schema-at-revision"]

        func run(_ name: String) async throws -> (RunReport, ClusterFixture) {
            let fx = try await ClusterFixture.ensureUp()
            let outcome = try await fx.run(name, overrides: Self.fast, tag: "migrate")
            #expect(outcome.report.observations.harnessErrors.isEmpty, "\(outcome.report.observations.harnessErrors)")
            return (outcome.report, fx)
        }

        func verdict(_ id: String, _ r: RunReport) throws -> Verdict {
            try #require(r.verdicts.first { $0.id == id }, "no verdict \(id) in \(r.verdicts.map(\.id))")
        }

        /// Every migration verdict (and lost-writes) passed; the only skipped ones are those a scenario without a fault
        /// cannot measure (RTO, the after-heal error budget).
        func expectSafe(_ r: RunReport) throws {
            for id in Self.migrationVerdicts + ["lost-writes"] {
                let v = try verdict(id, r)
                #expect(v.result.status == .passed, "\(id): \(v.result) \(v.notes)")
            }
            let other = r.verdicts.filter { ![.passed, .skipped].contains($0.result.status) }
            #expect(other.isEmpty, "\(other.map { "\($0.id): \($0.result)" })")
            #expect(Set(r.verdicts.filter { $0.result.status == .skipped }.map(\.id)).isSubset(of: ["rto", "error-budget-after"]),
                    "\(r.verdicts.filter { $0.result.status == .skipped }.map { "\($0.id): \($0.result)" })")
            #expect(try verdict("app-errors", r).result.measured == .count(0))
            #expect(r.status == "passed")
        }

        /// The control failed, on `id`, with a reason that contains `because`; the schema still matches its revision.
        func expectNaive(_ r: RunReport, failsOn id: String, because: String) throws {
            let v = try verdict(id, r)
            #expect(v.result.status == .failed, "\(id): \(v.result) \(v.notes)")
            #expect(v.result.message?.contains(because) == true, "\(v.result.message ?? "")")
            #expect(try verdict("schema-at-revision", r).result.status == .passed)
            #expect(try verdict("lost-writes", r).result.status == .passed)
            #expect(r.status == "target-failed")
        }

        @Test func addColumnBackfillsUnderLoadAndItsNaiveTwinBlocksTheApplication() async throws {
            let (safe, fx) = try await run("migrate-add-column")
            try expectSafe(safe)
            let c = try PGConnection(fx.env.applicationConninfo, connectTimeout: .seconds(5))
            defer { c.close() }
            #expect(try c.exec("select count(*) from orders where priority is null").scalar == "0", "backfilled and NOT NULL")
            #expect(try c.exec("select attnotnull from pg_attribute where attrelid = 'orders'::regclass and attname = 'priority'").scalar == "t")

            let (naive, _) = try await run("migrate-add-column-naive")
            try expectNaive(naive, failsOn: "lock-wait", because: "ADD COLUMN priority int NOT NULL DEFAULT (random()")
            #expect((try verdict("lock-wait", naive).result.measured?.value ?? 0) >= 1_000, "the rewrite held the table for seconds")
        }

        @Test func renameThroughTheViewKeepsEveryVersionWorkingAndTheInPlaceRenameBreaksV1() async throws {
            let (safe, _) = try await run("migrate-rename-column")
            try expectSafe(safe)
            let versions = try #require(safe.observations.load.versions)
            for v in ["v1", "v2", "v3"] {
                let t = try #require(versions[v], "\(v) ran: \(versions.keys.sorted())")
                #expect(t.ok > 0 && t.errorCount == 0, "\(v): \(t)")
            }
            #expect(safe.observations.operations?.filter { $0.operation.slug == "switch-workload" }.allSatisfy { $0.status == .succeeded } == true)

            let (naive, _) = try await run("migrate-rename-column-naive")
            try expectNaive(naive, failsOn: "app-errors", because: "42703")
            #expect(try verdict("app-errors", naive).result.message?.contains("failed versions: v1") == true)
        }

        @Test func concurrentIndexBuildDoesNotBlockWritesAndThePlainOneDoes() async throws {
            let (safe, fx) = try await run("migrate-create-index")
            try expectSafe(safe)
            let c = try PGConnection(fx.env.applicationConninfo, connectTimeout: .seconds(5))
            defer { c.close() }
            #expect(try c.exec("select indisvalid from pg_index where indexrelid = 'orders_customer_created_idx'::regclass").scalar == "t")
            #expect(try c.exec("select to_regclass('orders_customer_id_idx') is null").scalar == "t", "the superseded index is gone")

            let (naive, _) = try await run("migrate-create-index-naive")
            try expectNaive(naive, failsOn: "lock-wait", because: "CREATE INDEX orders_customer_created_idx")
        }

        /// A failover in the middle of a background migration: the migration lost its connection, resumed on the new
        /// primary and ended at its revision with a fresh migration's schema; no acknowledged write was lost. (The RTO is
        /// reported, not asserted here: kill-primary's test holds it to its target.)
        /// Returns false when the old primary did not rejoin (the heal failed `cluster-recovered`, the migration's end was
        /// skipped): seen once in 5 runs of migrate-failover-backfill (2026-12-02), the old primary started on its old
        /// timeline ("contrecord is requested", "not in this server's history"), as in packet-loss-30 (issue #11). It is
        /// recorded as that known issue; nothing may be lost all the same.
        @discardableResult
        func expectResumedAfterFailover(_ r: RunReport, at revision: String) throws -> Bool {
            #expect(try verdict("lost-writes", r).result.status == .passed)
            if case .failed(_, _, let why) = try verdict("cluster-recovered", r).result {
                withKnownIssue("Patroni 4.1.5: the killed primary sometimes stays on its old timeline (issue #11)", isIntermittent: true) {
                    Issue.record("cluster-recovered failed: \(why)")
                }
                return false
            }
            for id in ["cluster-recovered", "operation-finish-migration", "schema-at-revision"] {
                let v = try verdict(id, r)
                #expect(v.result.status == .passed, "\(id): \(v.result) \(v.notes)")
            }
            let finish = try #require(r.observations.operations?.first { $0.operation == .finishMigration })
            let facts = try #require(finish.outcome?.facts)
            #expect(facts[MigrationFacts.revision] == revision)
            #expect(facts["resumes"]?.contains("lost the database during the upgrade") == true,
                    "the kill hit the migration and it resumed: \(facts)")
            #expect(try verdict("rto", r).result.measured != nil, "the failover was measured")
            return true
        }

        @Test func aFailoverDuringTheBackfillResumesIt() async throws {
            let (r, fx) = try await run("migrate-failover-backfill")
            guard try expectResumedAfterFailover(r, at: "0006") else { return }
            let c = try PGConnection(fx.env.applicationConninfo, connectTimeout: .seconds(5))
            defer { c.close() }
            #expect(try c.exec("select count(*) from orders where priority is null").scalar == "0", "every row backfilled")
        }

        /// Nightly only: `aFailoverDuringTheBackfillResumesIt` covers a failover in the middle of a migration in CI.
        @Test(.nightlyOnly) func aFailoverDuringTheConcurrentIndexBuildResumesAndRebuildsTheInvalidIndex() async throws {
            let (r, fx) = try await run("migrate-failover-index")
            guard try expectResumedAfterFailover(r, at: "0012") else { return }
            let facts = r.observations.operations?.first { $0.operation == .finishMigration }?.outcome?.facts ?? [:]
            if facts["resumes"]?.contains("in 0010") == true {
                #expect(facts["invalid-index"]?.contains("dropping the INVALID leftover") == true, "\(facts)")
            }
            let c = try PGConnection(fx.env.applicationConninfo, connectTimeout: .seconds(5))
            defer { c.close() }
            #expect(try c.exec("select count(*) from pg_index where not indisvalid").scalar == "0", "no INVALID index left")
            #expect(try c.exec("select indisvalid from pg_index where indexrelid = 'orders_customer_created_idx'::regclass").scalar == "t")
        }

        /// `scripts/test-migrate-pipeline --hold-lock`: a failing migration (a validated CHECK the data violates; a lock
        /// timeout while a transaction holds the table) halts the pipeline before the deploy and rolls back to the start
        /// revision with the schema as before; meanwhile the v1 application keeps being served without an error.
        @Test func thePipelineHaltsAndRollsBackWhileTheApplicationIsServed() async throws {
            let fx = try await ClusterFixture.ensureUp()
            _ = try await fx.env.prepareApplication(ApplicationSpec(revision: "0001"))
            let load = LoadGeneratorDriver(endpoints: .init(writes: fx.rw, reads: fx.ro, application: try ClusterFixture.driver.endpoints().application),
                                           probe: nil, logger: ClusterFixture.logger)
            let (obs, script) = try await withThrowingTaskGroup(of: LoadObservations.self) { group in
                group.addTask { try await load.run([.orders(rate: 50, version: .v1)]) }
                try await Task.sleep(for: .seconds(2))
                let script = try await Shell.run([ClusterFixture.home + "/scripts/test-migrate-pipeline", "--hold-lock"],
                                                 env: fx.migrateEnv(user: "postgres"), timeout: .minutes(5))
                group.cancelAll()  // load off: `run` returns what it saw
                let obs = try await group.next()
                return (try #require(obs), script)
            }
            print(script.output)
            #expect(script.status == 0, "the pipeline test: \(script.output.split(separator: "\n").filter { $0.hasPrefix("FAIL") })")
            #expect(script.output.contains("PASS") && !script.output.contains("FAIL"))
            let orders = try #require(obs.totals["orders"])
            #expect(orders.ok > 100 && orders.errorCount == 0, "the application was served throughout: \(orders)")
        }

        /// Bad input against the real database: each exits 2 with one line, and the revision stays where it was.
        @Test func badInputChangesNothing() async throws {
            let fx = try await ClusterFixture.ensureUp()
            _ = try await fx.env.prepareApplication(ApplicationSpec(revision: "0001"))
            let migrate = ClusterFixture.home + "/scripts/migrate"
            let env = fx.migrateEnv(user: "faultline")
            let noDatabase = env.merging(["FAULTLINE_MIGRATE_URL": "postgresql://faultline@\(fx.env.config.clientIP):5000"]) { $1 }
            func refused(_ args: [String], _ e: [String: String], _ why: String) async throws {
                let r = try await Shell.run([migrate] + args, env: e, timeout: .minutes(1))
                #expect(r.status == 2, "\(args): exit \(r.status): \(r.output)")
                #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.lowercased().contains(why), "\(args): \(r.stderr)")
            }
            try await refused(["up", "--to", "9999"], env, "unknown revision")
            try await refused(["down", "--to", "-5"], env, "past the base")
            try await refused(["up"], noDatabase, "no database")
            // Another run holds the Alembic lock (the advisory lock env.py takes).
            let holder = try PGConnection(fx.env.applicationConninfo, connectTimeout: .seconds(5))
            defer { holder.close() }
            _ = try holder.exec("select pg_advisory_lock(\(Int64(bitPattern: 0x6661756C746D6967)))")
            try await refused(["up"], env, "another migration holds the lock")
            _ = try holder.exec("select pg_advisory_unlock_all()")
            let status = try await Shell.run([migrate, "status"], env: env, timeout: .minutes(1))
            #expect(status.output.contains("database at 0001"), "\(status.output)")
        }
    }
}

extension ClusterFixture {
    /// What `scripts/migrate` needs to reach the application database as `user` (the password from the passfile).
    func migrateEnv(user: String) -> [String: String] {
        ["FAULTLINE_MIGRATE_URL": "postgresql://\(user)@\(env.config.clientIP):5000/\(LocalEnvironment.applicationDatabase)",
         "PGPASSFILE": env.config.passfile]
    }
}
