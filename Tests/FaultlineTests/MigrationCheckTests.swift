import Foundation
import Testing
@testable import Faultline

/// A migration under load: 10 s of steady state, then step 0 migrates to 0006 (on the fake timeline from +10 s to
/// +14 s), then a 2 s hold.
let migrationScenario = Scenario("migrate-under-load", summary: "expand/migrate/contract under load") {
    Targets(rto: nil, migration: MigrationTargets())
    Load(.ledgerWrites(rate: 100))
    SteadyState(for: .seconds(10))
    Migrate(to: "0006", within: .minutes(5))
    Hold(for: .seconds(2))
}

/// Hand-built observations of `migrationScenario`.
enum MigrationFixture {
    static let good: [String: String] = [
        MigrationFacts.lockWaitMaxMs: "120", MigrationFacts.lockWaitSamples: "40",
        MigrationFacts.replicaLagMaxMs: "300", MigrationFacts.replicaLagMaxBytes: "65536",
        MigrationFacts.revision: "0006", MigrationFacts.schemaMatches: "yes", MigrationFacts.history: "safe",
    ]

    /// Orders windows from 0 to 16 s, 10 ok each: p99 `steadyUs` before +10 s, `migratingUs` from +10 s to +14 s,
    /// `steadyUs` after; totals with `errors`.
    static func obs(facts: [String: String] = good, status: OperationResult.Status = .succeeded, error: String? = nil,
                    steadyUs: Int = 2_000, migratingUs: Int = 20_000,
                    errors: [Outcome: Int] = [:], sqlstates: [String: Int] = [:]) -> Observations {
        var load = LoadObservations()
        load.windows = stride(from: 0, to: 16_000, by: 100).map { start in
            TimelineWindow(startMs: start, workload: MigrationChecks.applicationWorkload, ok: 10,
                           p99Us: (10_000..<14_000).contains(start) ? migratingUs : steadyUs)
        }
        load.totals = [MigrationChecks.applicationWorkload: WorkloadTotals(ok: 1_600, errors: errors, otherSQLStates: sqlstates)]
        var o = Observations(events: [
            TimelineEvent(atMs: 0, kind: .phase, detail: "steady-state"),
            TimelineEvent(atMs: 10_000, kind: .phase, detail: "operate"),
        ], load: load, loadStoppedAtMs: 16_000)
        o.operations = [OperationResult(step: 0, operation: .migrate(revision: "0006"), startedAtMs: 10_000, endedAtMs: 14_000,
                                        status: status, outcome: status == .succeeded ? OperationOutcome("migrated", facts: facts) : nil,
                                        error: error)]
        return o
    }

    static func facts(_ change: [String: String?]) -> [String: String] {
        var f = good
        for (k, v) in change { f[k] = v }
        return f
    }
}

@Suite("Migration checks")
struct MigrationCheckTests {
    let ids = ["app-errors", "migration-p99", "lock-wait", "replica-lag", "schema-at-revision"]

    @Test func everyVerdictPassesOnGoodData() throws {
        let vs = MigrationChecks.evaluate(migrationScenario, MigrationFixture.obs())
        #expect(vs.map(\.id) == ids)
        for v in vs { #expect(v.result.status == .passed, "\(v.id): \(v.result)") }
        // The default floor (50 ms) is the bound over 3 × 2 ms; the notes give both p99s.
        let p = try verdict("migration-p99", vs)
        #expect(p.result.measured == Quantity(20, .ms))
        #expect(p.result.target == Quantity(50, .ms))
        #expect(p.notes.contains { $0.contains("steady state") && $0.contains("2.0 ms") && $0.contains("100 windows") })
        #expect(p.notes.contains { $0.contains("while migrating") && $0.contains("20 ms") && $0.contains("41 windows") })
        #expect(try verdict("lock-wait", vs).result.measured == .ms(120))
        #expect(try verdict("replica-lag", vs).result.measured == .ms(300))
        #expect(try verdict("replica-lag", vs).notes.contains { $0.contains("65536 bytes") })
    }

    @Test func theFullEvaluationIncludesThemAfterTheOperationVerdict() {
        let ids = Assertions.evaluate(migrationScenario, MigrationFixture.obs()).map(\.id)
        let op = ids.firstIndex(of: "operation-migrate")
        #expect(op != nil)
        #expect(Array(ids.drop { $0 != "app-errors" }.prefix(5)) == self.ids)
        #expect(op! < ids.firstIndex(of: "app-errors")!)
    }

    @Test func appErrorsFailWithOutcomesAndSQLStates() throws {
        let obs = MigrationFixture.obs(errors: [.otherSQLState: 212, .connectionLost: 3, .clientBackoff: 7],
                                       sqlstates: ["42703": 200, "23502": 12])
        let v = try verdict("app-errors", MigrationChecks.evaluate(migrationScenario, obs))
        #expect(v.result.status == .failed)
        #expect(v.result.measured == .count(215))
        #expect(v.result.message == "215 errors: connection_lost 3, other_sqlstate 212 (42703 ×200, 23502 ×12)")
        #expect(v.notes.contains { $0.contains("client_backoff") && $0.contains("7") })
    }

    @Test func appErrorsNameTheVersionsThatFailedWhenGiven() throws {
        let obs = MigrationFixture.obs(errors: [.otherSQLState: 212], sqlstates: ["42703": 212])
        let versions = ["v1": WorkloadTotals(ok: 500, errors: [.otherSQLState: 212], otherSQLStates: ["42703": 212]),
                        "v2": WorkloadTotals(ok: 900)]
        let v = try verdict("app-errors", MigrationChecks.evaluate(migrationScenario, obs, versions: versions))
        #expect(v.result.message == "212 errors: other_sqlstate 212 (42703 ×212); failed versions: v1 212 (other_sqlstate 212 (42703 ×212))")
        #expect(v.notes.contains("by version: v1 212 error(s) (other_sqlstate 212 (42703 ×212)), v2 0 error(s)"))
    }

    @Test func appErrorsWithinTheAllowanceStillPass() throws {
        var s = migrationScenario
        s.targets.migration?.appErrors = 5
        let v = try verdict("app-errors", MigrationChecks.evaluate(s, MigrationFixture.obs(errors: [.timeout: 5])))
        #expect(v.result == .passed(measured: .count(5), target: .count(5)))
    }

    @Test func appErrorsAreSkippedWithoutTheOrdersWorkload() throws {
        var obs = MigrationFixture.obs()
        obs.load.totals = ["ledger-writes": WorkloadTotals(ok: 10)]
        let v = try verdict("app-errors", MigrationChecks.evaluate(migrationScenario, obs))
        #expect(v.result.status == .skipped)
        #expect(v.result.message?.contains("orders") == true)
    }

    @Test func p99AboveTheBoundFails() throws {
        let v = try verdict("migration-p99", MigrationChecks.evaluate(migrationScenario, MigrationFixture.obs(migratingUs: 80_000)))
        #expect(v.result.status == .failed)
        #expect(v.result.measured == Quantity(80, .ms))
        #expect(v.result.message?.contains("80 ms") == true)
    }

    @Test func theBoundIsTheFactorTimesSteadyWhenThatIsAboveTheFloor() throws {
        // Steady 30 ms: the bound is 90 ms; 80 ms passes, 95 ms fails.
        let pass = try verdict("migration-p99", MigrationChecks.evaluate(migrationScenario,
                                                                          MigrationFixture.obs(steadyUs: 30_000, migratingUs: 80_000)))
        #expect(pass.result == .passed(measured: Quantity(80, .ms), target: Quantity(90, .ms)))
        let fail = try verdict("migration-p99", MigrationChecks.evaluate(migrationScenario,
                                                                          MigrationFixture.obs(steadyUs: 30_000, migratingUs: 95_000)))
        #expect(fail.result.status == .failed)
        #expect(fail.result.target == Quantity(90, .ms))
    }

    @Test func p99IsSkippedWithoutWindows() throws {
        var obs = MigrationFixture.obs()
        obs.load.windows = obs.load.windows.map { var w = $0; w.workload = "ledger-writes"; return w }
        let v = try verdict("migration-p99", MigrationChecks.evaluate(migrationScenario, obs))
        #expect(v.result.status == .skipped)
        // No steady-state windows: no baseline.
        var early = MigrationFixture.obs()
        early.load.windows.removeAll { $0.startMs < 10_000 }
        let b = try verdict("migration-p99", MigrationChecks.evaluate(migrationScenario, early))
        #expect(b.result.status == .skipped)
        #expect(b.result.message?.contains("baseline") == true)
    }

    @Test func theSteadyStateEndsAtTheFirstPhaseChangeElseTheFirstStep() {
        #expect(MigrationChecks.steadyStateEndMs(MigrationFixture.obs()) == 10_000)
        var o = MigrationFixture.obs()
        o.events = []
        o.operations?[0].startedAtMs = 9_500
        #expect(MigrationChecks.steadyStateEndMs(o) == 9_500)
    }

    @Test func aLongLockWaitFailsNamingTheStepAndTheStatements() throws {
        let facts = MigrationFixture.facts([MigrationFacts.lockWaitMaxMs: "2300",
                                            MigrationFacts.lockWaitQuery: "INSERT INTO orders (customer_id) VALUES ($1)",
                                            MigrationFacts.lockWaitBlocker: "ALTER TABLE orders ADD COLUMN status text NOT NULL DEFAULT 'new'"])
        let v = try verdict("lock-wait", MigrationChecks.evaluate(migrationScenario, MigrationFixture.obs(facts: facts)))
        #expect(v.result.status == .failed)
        #expect(v.result.measured == .ms(2_300))
        #expect(v.result.target == .ms(1_000))
        let m = v.result.message ?? ""
        #expect(m.contains("step 1 (migrate to revision 0006)"))
        #expect(m.contains("waiting: INSERT INTO orders"))
        #expect(m.contains("blocked by: ALTER TABLE orders"))
    }

    @Test func aLockWaitWithoutSamplesIsNotMeasured() throws {
        let facts = MigrationFixture.facts([MigrationFacts.lockWaitMaxMs: "0", MigrationFacts.lockWaitSamples: "0"])
        let v = try verdict("lock-wait", MigrationChecks.evaluate(migrationScenario, MigrationFixture.obs(facts: facts)))
        #expect(v.result.status == .skipped)
    }

    @Test func replicaLagAboveTheBoundFails() throws {
        let facts = MigrationFixture.facts([MigrationFacts.replicaLagMaxMs: "7200", MigrationFacts.replicaLagMaxBytes: "900000000"])
        let v = try verdict("replica-lag", MigrationChecks.evaluate(migrationScenario, MigrationFixture.obs(facts: facts)))
        #expect(v.result.status == .failed)
        #expect(v.result.measured == .ms(7_200))
        #expect(v.result.message?.contains("900000000 bytes") == true)
    }

    @Test func aWrongRevisionFails() throws {
        let v = try verdict("schema-at-revision", MigrationChecks.evaluate(migrationScenario,
                                                                            MigrationFixture.obs(facts: MigrationFixture.facts([MigrationFacts.revision: "0005"]))))
        #expect(v.result.status == .failed)
        #expect(v.result.message == "the database is at revision 0005, not 0006")
    }

    @Test func aSchemaMismatchFails() throws {
        let facts = MigrationFixture.facts([MigrationFacts.schemaMatches: "no: orders.status is nullable, expected NOT NULL"])
        let v = try verdict("schema-at-revision", MigrationChecks.evaluate(migrationScenario, MigrationFixture.obs(facts: facts)))
        #expect(v.result.status == .failed)
        #expect(v.result.message == "its schema differs from a fresh migration to 0006: orders.status is nullable, expected NOT NULL")
    }

    @Test func missingFactsSkipTheirVerdictsNeverPass() throws {
        let none = MigrationChecks.evaluate(migrationScenario, MigrationFixture.obs(facts: [:]))
        for id in ids.dropFirst(2) {
            let v = try verdict(id, none)
            #expect(v.result.status == .skipped, "\(id): \(v.result)")
        }
        // The load's verdicts do not rest on the facts.
        #expect(try verdict("app-errors", none).result.status == .passed)
        #expect(try verdict("migration-p99", none).result.status == .passed)
        // One of the two schema facts missing, the other fine: skipped.
        let half = MigrationChecks.evaluate(migrationScenario,
                                            MigrationFixture.obs(facts: MigrationFixture.facts([MigrationFacts.schemaMatches: nil])))
        #expect(try verdict("schema-at-revision", half).result.status == .skipped)
    }

    @Test func aMalformedFactIsAnError() throws {
        let v = try verdict("replica-lag", MigrationChecks.evaluate(migrationScenario,
                                                                     MigrationFixture.obs(facts: MigrationFixture.facts([MigrationFacts.replicaLagMaxMs: "soon"]))))
        #expect(v.result.status == .error)
    }

    @Test func aFailedStepSkipsAllButAppErrors() throws {
        let obs = MigrationFixture.obs(status: .failed, error: "alembic exited 1", errors: [.otherSQLState: 4], sqlstates: ["42P01": 4])
        let vs = MigrationChecks.evaluate(migrationScenario, obs)
        #expect(try verdict("app-errors", vs).result.status == .failed)
        for id in ids.dropFirst() {
            let v = try verdict(id, vs)
            #expect(v.result.status == .skipped, "\(id): \(v.result)")
            #expect(v.result.message?.contains("failed") == true)
            #expect(v.result.message?.contains("alembic exited 1") == true)
        }
        // The operation verdict is the one that fails.
        #expect(try verdict("operation-migrate", Assertions.evaluate(migrationScenario, obs)).result.status == .failed)
    }

    @Test func anUnsupportedStepSkipsEveryFactVerdict() throws {
        let vs = MigrationChecks.evaluate(migrationScenario, MigrationFixture.obs(status: .unsupported, error: "no alembic here"))
        for id in ids.dropFirst() {
            let v = try verdict(id, vs)
            #expect(v.result.status == .skipped, "\(id): \(v.result)")
            #expect(v.result.message?.contains("no alembic here") == true)
        }
    }

    @Test func aStepNeverRunAfterAnEarlierFailureIsSkipped() throws {
        let s = Scenario("two-migrations") {
            Targets(rto: nil, migration: MigrationTargets())
            Load(.ledgerWrites(rate: 100))
            Backup(.full)
            Migrate(to: "0006")
        }
        var obs = MigrationFixture.obs()
        obs.operations = [OperationResult(step: 0, operation: .backup(.full, repo: nil), startedAtMs: 10_000, endedAtMs: 11_000,
                                          status: .failed, error: "repo full")]
        let vs = MigrationChecks.evaluate(s, obs)
        for id in ids.dropFirst() {
            let v = try verdict(id, vs)
            #expect(v.result.status == .skipped, "\(id): \(v.result)")
            #expect(v.result.message?.contains("step 1") == true)
        }
    }

    @Test func overSeveralStepsAKnownFailureStandsAndAnUnmeasuredStepSkips() throws {
        let s = Scenario("expand-contract") {
            Targets(rto: nil, migration: MigrationTargets())
            Load(.ledgerWrites(rate: 100))
            Migrate(to: "0005")
            Migrate(to: "0006")
        }
        func obs(first: String, second: [String: String]) -> Observations {
            var o = MigrationFixture.obs()
            o.operations = [
                OperationResult(step: 0, operation: .migrate(revision: "0005"), startedAtMs: 10_000, endedAtMs: 12_000, status: .succeeded,
                                outcome: OperationOutcome(facts: MigrationFixture.facts([MigrationFacts.lockWaitMaxMs: first,
                                                                                        MigrationFacts.revision: "0005"]))),
                OperationResult(step: 1, operation: .migrate(revision: "0006"), startedAtMs: 12_000, endedAtMs: 14_000, status: .succeeded,
                                outcome: OperationOutcome(facts: second)),
            ]
            return o
        }
        let bad = try verdict("lock-wait", MigrationChecks.evaluate(s, obs(first: "1500", second: [:])))
        #expect(bad.result.status == .failed)
        #expect(bad.result.message?.contains("step 1 (migrate to revision 0005)") == true)
        let unknown = try verdict("lock-wait", MigrationChecks.evaluate(s, obs(first: "100", second: [:])))
        #expect(unknown.result.status == .skipped)
        #expect(unknown.result.message?.contains("step 2") == true)
        let worst = try verdict("lock-wait", MigrationChecks.evaluate(s, obs(first: "100", second: MigrationFixture.facts([MigrationFacts.lockWaitMaxMs: "900"]))))
        #expect(worst.result == .passed(measured: .ms(900), target: .ms(1_000)))
        // The schema is judged after the last step, against its revision.
        #expect(try verdict("schema-at-revision", MigrationChecks.evaluate(s, obs(first: "100", second: MigrationFixture.good))).result.status == .passed)
    }

    @Test func noVerdictsWithoutTargetsOrWithoutAMigrateStep() {
        var untargeted = migrationScenario
        untargeted.targets.migration = nil
        #expect(MigrationChecks.evaluate(untargeted, MigrationFixture.obs()).isEmpty)
        #expect(!Assertions.evaluate(untargeted, MigrationFixture.obs()).contains { ids.contains($0.id) })
        let noMigrate = Scenario("no-migrate") {
            Targets(migration: MigrationTargets())
            Load(.ledgerWrites(rate: 100))
            Backup(.full)
        }
        #expect(MigrationChecks.evaluate(noMigrate, MigrationFixture.obs()).isEmpty)
    }

    @Test func nilBoundsAreNotChecked() {
        var s = migrationScenario
        s.targets.migration = MigrationTargets(lockWait: nil, replicaLag: nil)
        #expect(MigrationChecks.evaluate(s, MigrationFixture.obs()).map(\.id) == ["app-errors", "migration-p99", "schema-at-revision"])
    }
}

@Suite("Migration targets: model, JSON, plan")
struct MigrationTargetsTests {
    @Test func defaults() {
        let m = MigrationTargets()
        #expect(m.appErrors == 0)
        #expect(m.p99Factor == 3)
        #expect(m.p99Floor == .milliseconds(50))
        #expect(m.lockWait == .seconds(1))
        #expect(m.replicaLag == .seconds(5))
        #expect(Targets().migration == nil)
    }

    @Test func targetsRoundTripWithAndWithoutMigration() throws {
        for m in [nil, MigrationTargets(), MigrationTargets(appErrors: 2, p99Factor: 2.5, p99Floor: .milliseconds(80),
                                                             lockWait: nil, replicaLag: .seconds(10))] {
            let t = Targets(rto: nil, migration: m)
            let back = try JSONDecoder().decode(Targets.self, from: JSONEncoder().encode(t))
            #expect(back == t)
        }
    }

    @Test func anOldTargetsDocumentWithoutMigrationDecodes() throws {
        let old = #"{"rtoMs":30000,"lostWrites":0,"settleMs":60000,"sustainMs":1000,"errorBudgetAfter":0.01,"observeAfterHealMs":5000,"rtoJudges":"service-restored"}"#
        let t = try JSONDecoder().decode(Targets.self, from: Data(old.utf8))
        #expect(t.migration == nil)
        #expect(t.rto == .seconds(30))
    }

    @Test func aPartialMigrationDocumentTakesTheDefaultsForCounts() throws {
        let m = try JSONDecoder().decode(MigrationTargets.self, from: Data(#"{"lockWaitMs":2000}"#.utf8))
        #expect(m == MigrationTargets(lockWait: .seconds(2), replicaLag: nil))
    }

    @Test func thePlanSaysMigrateToTheRevisionAndTheTargets() {
        let lines = migrationScenario.planLines()
        #expect(lines.contains { $0.contains("operate: migrate to revision 0006 within 5m") })
        let t = lines.first { $0.hasPrefix("targets:") } ?? ""
        #expect(t.contains("migration: orders errors <= 0, p99 <= max(3 x steady, 50ms), lock wait <= 1s, replica lag <= 5s"))
        #expect(migrationScenario.problems().isEmpty, "\(migrationScenario.problems())")
    }
}
