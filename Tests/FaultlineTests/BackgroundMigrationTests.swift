import Foundation
import Testing
@testable import Faultline

/// A failover in the middle of a migration: step 0 starts the migration to 0006 in the background (+10 s), the
/// primary is killed, a new one awaited, the cluster healed, and step 4 waits for the migration (+12 s to +14 s).
let backgroundMigrationScenario = Scenario("migrate-during-failover", summary: "kill the primary during the backfill") {
    Targets(rto: .seconds(30), migration: MigrationTargets())
    Load(.orders(rate: 100, version: .v1))
    SteadyState(for: .seconds(10))
    StartMigration(to: "0006")
    Inject(.killNode(.primary))
    Await(.newPrimary, within: .seconds(30))
    Heal()
    FinishMigration(within: .minutes(5))
}

/// Hand-built observations of `backgroundMigrationScenario`: the load and timeline of `MigrationFixture.obs`, the
/// start step from +10 s to +10.005 s, the finish step from +12 s to +14 s with `facts` (when it succeeded).
enum BackgroundFixture {
    static func obs(facts: [String: String] = MigrationFixture.good, startFacts: [String: String] = [:],
                    start: OperationResult.Status = .succeeded, finish: OperationResult.Status? = .succeeded,
                    error: String? = nil, errors: [Outcome: Int] = [:]) -> Observations {
        var o = MigrationFixture.obs(errors: errors)
        o.operations = [OperationResult(step: 0, operation: .startMigration(revision: "0006"), startedAtMs: 10_000, endedAtMs: 10_005,
                                        status: start, outcome: start == .succeeded ? OperationOutcome("started", facts: startFacts) : nil,
                                        error: start == .succeeded ? nil : error)]
        if let finish {
            o.operations?.append(OperationResult(step: 4, operation: .finishMigration, startedAtMs: 12_000, endedAtMs: 14_000,
                                                 status: finish, outcome: finish == .succeeded ? OperationOutcome("migrated", facts: facts) : nil,
                                                 error: finish == .succeeded ? nil : error))
        }
        return o
    }
}

@Suite("Background migrations: model, JSON, DSL, validation, plan")
struct BackgroundMigrationModelTests {
    @Test func slugsAndDescriptions() {
        #expect(OperationSpec.startMigration(revision: "0006").slug == "start-migration")
        #expect(OperationSpec.finishMigration.slug == "finish-migration")
        #expect(OperationSpec.startMigration(revision: "0006").description == "start migrating to revision 0006 in the background")
        #expect(OperationSpec.finishMigration.description == "wait for the background migration to finish")
    }

    @Test func stepsRoundTripThroughJSONInTheFlatForm() throws {
        let enc = JSONEncoder()
        enc.outputFormatting = .sortedKeys
        func json(_ s: Step) throws -> String { String(decoding: try enc.encode(s), as: UTF8.self) }
        #expect(try json(.operation(.startMigration(revision: "0006"), within: nil))
                == #"{"kind":"operate","operation":{"kind":"start-migration","revision":"0006"}}"#)
        #expect(try json(.operation(.finishMigration, within: .minutes(5)))
                == #"{"kind":"operate","operation":{"kind":"finish-migration"},"withinMs":300000}"#)
        let back = try JSONDecoder().decode(Scenario.self, from: try enc.encode(backgroundMigrationScenario))
        #expect(back == backgroundMigrationScenario)
        for op in [OperationSpec.startMigration(revision: "7"), .finishMigration] {
            #expect(try JSONDecoder().decode(OperationSpec.self, from: try enc.encode(op)) == op)
        }
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(OperationSpec.self, from: Data(#"{"kind":"start-migration"}"#.utf8))
        }
    }

    @Test func theDSLBuildsOperationSteps() {
        #expect(StartMigration(to: "0006").elements == [.step(.operation(.startMigration(revision: "0006"), within: nil))])
        #expect(StartMigration(to: "0006", within: .seconds(2)).elements
                == [.step(.operation(.startMigration(revision: "0006"), within: .seconds(2)))])
        #expect(FinishMigration(within: .minutes(5)).elements == [.step(.operation(.finishMigration, within: .seconds(300)))])
        #expect(FinishMigration().elements == [.step(.operation(.finishMigration, within: nil))])
        #expect(backgroundMigrationScenario.steps.first == .operation(.startMigration(revision: "0006"), within: nil))
        #expect(backgroundMigrationScenario.steps.last == .operation(.finishMigration, within: .minutes(5)))
    }

    @Test func everyValidationMessage() {
        func problems(@ScenarioBuilder _ body: () -> [ScenarioElement]) -> [String] {
            var s = Scenario("m", body)
            s.workloads = [.ledgerWrites(rate: 1)]
            return s.problems()
        }
        #expect(backgroundMigrationScenario.problems().isEmpty, "\(backgroundMigrationScenario.problems())")
        #expect(problems { StartMigration(to: "1"); FinishMigration(); StartMigration(to: "2"); FinishMigration() }.isEmpty)
        #expect(problems { StartMigration(to: "1"); FinishMigration(); Migrate(to: "2") }.isEmpty)
        #expect(problems { FinishMigration() } == ["FinishMigration() has no unfinished StartMigration(to:) before it"])
        #expect(problems { StartMigration(to: "1"); FinishMigration(); FinishMigration() }
                == ["FinishMigration() has no unfinished StartMigration(to:) before it"])
        #expect(problems { StartMigration(to: "1"); StartMigration(to: "2"); FinishMigration() }
                == ["StartMigration(to: \"2\") while the migration to 1 still runs: add FinishMigration() before it"])
        #expect(problems { StartMigration(to: "1"); Migrate(to: "2"); FinishMigration() }
                == ["Migrate(to: \"2\") while the migration to 1 still runs: add FinishMigration() before it"])
        #expect(problems { Backup(); StartMigration(to: "0006") }
                == ["StartMigration(to: \"0006\") is never finished: add FinishMigration() after it"])
        #expect(problems { StartMigration(to: ""); FinishMigration() } == ["a migration needs a revision"])
        #expect(problems { StartMigration(to: "1"); FinishMigration(within: .zero) } == ["a timeout must be positive"])
        // One line each.
        let all = problems { FinishMigration(); StartMigration(to: "1"); StartMigration(to: "2") }
        #expect(all.count == 3)
        #expect(all.allSatisfy { !$0.contains("\n") })
    }

    @Test func thePlanSaysItRunsInTheBackgroundAndTheTargets() {
        let lines = backgroundMigrationScenario.planLines()
        #expect(lines.contains { $0.contains("operate: start migrating to revision 0006 in the background, returning at once") })
        #expect(lines.contains { $0.contains("operate: wait for the background migration to finish within 5m") })
        let t = lines.first { $0.hasPrefix("targets:") } ?? ""
        #expect(t.contains("migration: orders errors <= 0, p99 <= max(3 x steady, 50ms), lock wait <= 1s, replica lag <= 5s, schema at the target revision"))
        var completion = backgroundMigrationScenario
        completion.targets.migration = .completion
        let c = completion.planLines().first { $0.hasPrefix("targets:") } ?? ""
        #expect(c.hasSuffix(", migration: schema at the target revision"), "\(c)")
    }
}

@Suite("Background migrations: verdicts")
struct BackgroundMigrationCheckTests {
    let ids = ["app-errors", "migration-p99", "lock-wait", "replica-lag", "schema-at-revision"]
    let label = "steps 1-5 (migrate to revision 0006 in the background)"

    @Test func theSpansPairEachStartWithTheNextFinish() {
        let s = Scenario("spans") {
            Load(.ledgerWrites(rate: 1))
            Migrate(to: "0002")
            StartMigration(to: "0004")
            Hold(for: .seconds(1))
            FinishMigration()
            StartMigration(to: "0006")
        }
        let spans = MigrationChecks.spans(s)
        #expect(spans.map(\.index) == [0, 1, 4])
        #expect(spans.map(\.finish) == [nil, 3, nil])
        #expect(spans.map(\.revision) == ["0002", "0004", "0006"])
        #expect(spans.map(\.label) == ["step 1 (migrate to revision 0002)", "steps 2-4 (migrate to revision 0004 in the background)",
                                       "step 5 (migrate to revision 0006 in the background)"])
    }

    @Test func everyVerdictPassesOnGoodDataOverTheWholeSpan() throws {
        let vs = MigrationChecks.evaluate(backgroundMigrationScenario, BackgroundFixture.obs())
        #expect(vs.map(\.id) == ids)
        for v in vs { #expect(v.result.status == .passed, "\(v.id): \(v.result)") }
        // From the start step's start (+10 s) to the finish step's end (+14 s): 41 windows at 20 ms.
        let p = try verdict("migration-p99", vs)
        #expect(p.result.measured == Quantity(20, .ms))
        #expect(p.notes.contains { $0.contains(label) && $0.contains("+10.0 s…+14.0 s") && $0.contains("41 windows") }, "\(p.notes)")
        #expect(try verdict("lock-wait", vs).result.measured == .ms(120))
        #expect(try verdict("lock-wait", vs).notes.contains { $0.hasPrefix(label) })
        #expect(try verdict("replica-lag", vs).result.measured == .ms(300))
        #expect(try verdict("schema-at-revision", vs).title == "Schema at revision 0006, as a fresh migration to it builds it")
    }

    @Test func theFactsAreTheFinishStepsNotTheStartsOwn() throws {
        let startFacts = MigrationFixture.facts([MigrationFacts.lockWaitMaxMs: "9000", MigrationFacts.revision: "0001"])
        let vs = MigrationChecks.evaluate(backgroundMigrationScenario, BackgroundFixture.obs(startFacts: startFacts))
        #expect(try verdict("lock-wait", vs).result == .passed(measured: .ms(120), target: .ms(1_000)))
        #expect(try verdict("schema-at-revision", vs).result.status == .passed)
    }

    @Test func aLongLockWaitFailsNamingTheSpan() throws {
        let facts = MigrationFixture.facts([MigrationFacts.lockWaitMaxMs: "2300",
                                            MigrationFacts.lockWaitBlocker: "CREATE INDEX CONCURRENTLY orders_status_idx"])
        let v = try verdict("lock-wait", MigrationChecks.evaluate(backgroundMigrationScenario, BackgroundFixture.obs(facts: facts)))
        #expect(v.result.status == .failed)
        #expect(v.result.measured == .ms(2_300))
        #expect(v.result.message?.contains("during \(label)") == true)
        #expect(v.result.message?.contains("blocked by: CREATE INDEX CONCURRENTLY") == true)
    }

    @Test func aWrongRevisionFailsAgainstTheStartStepsRevision() throws {
        let facts = MigrationFixture.facts([MigrationFacts.revision: "0004"])
        let v = try verdict("schema-at-revision", MigrationChecks.evaluate(backgroundMigrationScenario, BackgroundFixture.obs(facts: facts)))
        #expect(v.result.status == .failed)
        #expect(v.result.message == "the database is at revision 0004, not 0006")
        #expect(v.notes.contains("revision after \(label): 0004"))
    }

    @Test func aFailedFinishSkipsAllButAppErrors() throws {
        let obs = BackgroundFixture.obs(finish: .failed, error: "alembic exited 1: the backfill lost its connection",
                                        errors: [.connectionLost: 40])
        let vs = MigrationChecks.evaluate(backgroundMigrationScenario, obs)
        #expect(try verdict("app-errors", vs).result.status == .failed)
        for id in ids.dropFirst() {
            let v = try verdict(id, vs)
            #expect(v.result.status == .skipped, "\(id): \(v.result)")
            #expect(v.result.message?.contains("\(label): step 5 (wait for the background migration to finish) failed") == true, "\(id): \(v.result)")
            #expect(v.result.message?.contains("the backfill lost its connection") == true)
        }
        #expect(try verdict("operation-finish-migration", Assertions.evaluate(backgroundMigrationScenario, obs)).result.status == .failed)
    }

    @Test func aFinishNeverRunIsSkippedWithTheReason() throws {
        var obs = BackgroundFixture.obs(finish: nil)
        obs.recoveryFailure = RecoveryFailure(step: 3, message: "no leader", lastSeen: "n1 down")
        let vs = MigrationChecks.evaluate(backgroundMigrationScenario, obs)
        #expect(try verdict("app-errors", vs).result.status == .passed)
        for id in ids.dropFirst() {
            let v = try verdict(id, vs)
            #expect(v.result.status == .skipped, "\(id): \(v.result)")
            #expect(v.result.message?.contains("did not recover after the heal (step 4)") == true, "\(id): \(v.result)")
        }
        // With no reason known, never run is an error, as for a migrate step; never a pass.
        let unexplained = MigrationChecks.evaluate(backgroundMigrationScenario, BackgroundFixture.obs(finish: nil))
        for id in ids.dropFirst() { #expect(try verdict(id, unexplained).result.status == .error, "\(id)") }
    }

    @Test func aStartThatFailedOrIsUnsupportedSkipsEveryFactVerdict() throws {
        let failed = MigrationChecks.evaluate(backgroundMigrationScenario,
                                              BackgroundFixture.obs(start: .failed, finish: nil, error: "alembic not found"))
        let unsupported = MigrationChecks.evaluate(backgroundMigrationScenario,
                                                   BackgroundFixture.obs(start: .unsupported, finish: nil, error: "no background migrations here"))
        for id in ids.dropFirst() {
            let f = try verdict(id, failed), u = try verdict(id, unsupported)
            #expect(f.result.status == .skipped, "\(id): \(f.result)")
            #expect(f.result.message?.contains("step 1 (start migrating to revision 0006 in the background) failed") == true, "\(id): \(f.result)")
            #expect(u.result.status == .skipped, "\(id): \(u.result)")
            #expect(u.result.message?.contains("no background migrations here") == true)
        }
    }

    @Test func aMigrateStepAndAPairAreJudgedTogether() throws {
        let s = Scenario("expand-then-failover") {
            Targets(rto: nil, migration: MigrationTargets())
            Load(.orders(rate: 100, version: .v1))
            Migrate(to: "0003")
            StartMigration(to: "0006")
            FinishMigration()
        }
        var o = MigrationFixture.obs()
        o.operations = [
            OperationResult(step: 0, operation: .migrate(revision: "0003"), startedAtMs: 10_000, endedAtMs: 11_000, status: .succeeded,
                            outcome: OperationOutcome(facts: MigrationFixture.facts([MigrationFacts.lockWaitMaxMs: "700",
                                                                                    MigrationFacts.revision: "0003"]))),
            OperationResult(step: 1, operation: .startMigration(revision: "0006"), startedAtMs: 11_000, endedAtMs: 11_001, status: .succeeded),
            OperationResult(step: 2, operation: .finishMigration, startedAtMs: 11_001, endedAtMs: 14_000, status: .succeeded,
                            outcome: OperationOutcome(facts: MigrationFixture.good)),
        ]
        let vs = MigrationChecks.evaluate(s, o)
        for v in vs { #expect(v.result.status == .passed, "\(v.id): \(v.result)") }
        #expect(try verdict("lock-wait", vs).result.measured == .ms(700))
        #expect(try verdict("schema-at-revision", vs).title.contains("0006"))
    }

    @Test func theCompletionPresetYieldsOnlySchemaAtRevision() throws {
        var s = backgroundMigrationScenario
        s.targets.migration = .completion
        // Errors during the failover, a slow p99 and a long lock wait: not this preset's to judge.
        let obs = BackgroundFixture.obs(facts: MigrationFixture.facts([MigrationFacts.lockWaitMaxMs: "9000"]),
                                        errors: [.connectionLost: 120])
        let vs = MigrationChecks.evaluate(s, obs)
        #expect(vs.map(\.id) == ["schema-at-revision"])
        #expect(vs[0].result.status == .passed)
        let all = Assertions.evaluate(s, obs).map(\.id)
        #expect(all.contains("schema-at-revision"))
        #expect(!all.contains { ["app-errors", "migration-p99", "lock-wait", "replica-lag"].contains($0) })
        // A plain migrate scenario with it too.
        var plain = migrationScenario
        plain.targets.migration = .completion
        #expect(MigrationChecks.evaluate(plain, MigrationFixture.obs(errors: [.timeout: 3])).map(\.id) == ["schema-at-revision"])
    }

    @Test func eachOptionalTargetDropsOnlyItsVerdict() {
        var s = backgroundMigrationScenario
        s.targets.migration = MigrationTargets(appErrors: nil)
        #expect(MigrationChecks.evaluate(s, BackgroundFixture.obs()).map(\.id) == Array(ids.dropFirst()))
        s.targets.migration = MigrationTargets(p99Factor: nil)
        #expect(MigrationChecks.evaluate(s, BackgroundFixture.obs()).map(\.id) == ["app-errors", "lock-wait", "replica-lag", "schema-at-revision"])
    }

    @Test func theFinishStepGetsTheDurationVerdictAndTheStartNoneUnlessItFails() throws {
        let vs = OperationChecks.evaluate(backgroundMigrationScenario, BackgroundFixture.obs())
        #expect(vs.map(\.id) == ["operation-finish-migration"])
        #expect(vs[0].title == "Operation: wait for the background migration to finish took ≤ 5m")
        #expect(vs[0].result == .passed(measured: .ms(2_000), target: .ms(300_000)))
        let failed = OperationChecks.evaluate(backgroundMigrationScenario,
                                              BackgroundFixture.obs(start: .failed, finish: nil, error: "alembic not found"))
        let start = try verdict("operation-start-migration", failed)
        #expect(start.result.status == .failed)
        #expect(start.result.message?.contains("alembic not found") == true)
        // The finish never ran after the failed start: skipped, naming the start.
        let finish = try verdict("operation-finish-migration", failed)
        #expect(finish.result.status == .skipped)
        #expect(finish.result.message?.contains("step 1") == true)
    }
}

@Suite("Migration targets: optional bounds in JSON")
struct OptionalMigrationTargetsTests {
    @Test func oldDocumentsDecodeAsBefore() throws {
        // What a report wrote before the bounds could be nil: every count present.
        let old = #"{"appErrors":0,"lockWaitMs":1000,"p99Factor":3,"p99FloorMs":50,"replicaLagMs":5000}"#
        #expect(try JSONDecoder().decode(MigrationTargets.self, from: Data(old.utf8)) == MigrationTargets())
        let custom = #"{"appErrors":2,"p99Factor":2.5,"p99FloorMs":80}"#
        #expect(try JSONDecoder().decode(MigrationTargets.self, from: Data(custom.utf8))
                == MigrationTargets(appErrors: 2, p99Factor: 2.5, p99Floor: .milliseconds(80), lockWait: nil, replicaLag: nil))
        // Absent counts: today's defaults, not "not checked".
        let empty = try JSONDecoder().decode(MigrationTargets.self, from: Data("{}".utf8))
        #expect(empty.appErrors == 0)
        #expect(empty.p99Factor == 3)
    }

    @Test func theDefaultsEncodeAsTheyDidAndNilIsNull() throws {
        let enc = JSONEncoder()
        enc.outputFormatting = .sortedKeys
        #expect(String(decoding: try enc.encode(MigrationTargets()), as: UTF8.self)
                == #"{"appErrors":0,"lockWaitMs":1000,"p99Factor":3,"p99FloorMs":50,"replicaLagMs":5000}"#)
        #expect(String(decoding: try enc.encode(MigrationTargets.completion), as: UTF8.self)
                == #"{"appErrors":null,"p99Factor":null,"p99FloorMs":50}"#)
        let nulls = try JSONDecoder().decode(MigrationTargets.self, from: Data(#"{"appErrors":null,"p99Factor":null}"#.utf8))
        #expect(nulls.appErrors == nil)
        #expect(nulls.p99Factor == nil)
    }

    @Test func theCompletionPresetRoundTripsInTargets() throws {
        #expect(MigrationTargets.completion == MigrationTargets(appErrors: nil, p99Factor: nil, lockWait: nil, replicaLag: nil))
        for m in [MigrationTargets.completion, MigrationTargets(appErrors: nil), MigrationTargets(p99Factor: nil)] {
            let t = Targets(rto: nil, migration: m)
            #expect(try JSONDecoder().decode(Targets.self, from: JSONEncoder().encode(t)) == t)
        }
    }
}
