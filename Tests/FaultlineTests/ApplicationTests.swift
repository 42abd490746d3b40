import Foundation
import Testing
@testable import Faultline

/// A migration scenario on the fake cluster: the application prepared at 0001, then one migrate step.
let addColumnOnFake = Scenario("add-column-fake", summary: "prepare, then migrate") {
    Targets(rto: nil, migration: MigrationTargets())
    Application(at: "0001", orders: 5_000)
    Load(.ledgerWrites(rate: 100))
    SteadyState(for: .seconds(5))
    Migrate(to: "0006", within: .minutes(5))
}

@Suite("The demo application a migration scenario starts from")
struct ApplicationSpecTests {
    @Test func theDSLSetsItAndTheCodecKeepsIt() throws {
        #expect(addColumnOnFake.application == ApplicationSpec(revision: "0001", orders: 5_000))
        let data = try JSONEncoder().encode(addColumnOnFake)
        #expect(try JSONDecoder().decode(Scenario.self, from: data) == addColumnOnFake)
        // A scenario written before applications existed decodes without one, and encodes none.
        let plain = Scenario(name: "plain", workloads: [.ledgerWrites(rate: 1)], steps: [.inject(.killNode(.primary))])
        let text = String(decoding: try JSONEncoder().encode(plain), as: UTF8.self)
        #expect(!text.contains("application"))
        #expect(try JSONDecoder().decode(Scenario.self, from: Data(text.utf8)).application == nil)
    }

    @Test func badSpecsAreProblems() {
        var s = addColumnOnFake
        #expect(s.problems().isEmpty, "\(s.problems())")
        s.application = ApplicationSpec(revision: "", orders: 0)
        let p = s.problems()
        #expect(p.contains { $0.contains("needs a revision") }, "\(p)")
        #expect(p.contains { $0.contains("at least 1") }, "\(p)")
        s.application = ApplicationSpec(revision: "00 01")
        #expect(s.problems().contains { $0.contains("without spaces") })
    }

    @Test func thePlanPreparesBeforeTheLoad() {
        let lines = addColumnOnFake.planLines()
        let prepare = lines.firstIndex { $0.contains("prepare the orders application at revision 0001 with ≥ 5000 orders") }
        let load = lines.firstIndex { $0.contains("load on:") }
        #expect(prepare != nil && load != nil && prepare! < load!, "\(lines)")
    }

    @Test func targetsKeepTheirRPOThroughTheCodec() throws {
        let t = Targets(rto: .minutes(30), rpo: .minutes(5))
        let back = try JSONDecoder().decode(Targets.self, from: JSONEncoder().encode(t))
        #expect(back.rpo == .minutes(5))
        #expect(back == t)
    }
}

@Suite("Preparing the application: runner on the test clock")
struct ApplicationRunnerTests {
    func harness(prepare: FakeOperation?) -> RunnerTests.Harness {
        var ops: [String: FakeOperation] = ["migrate": .takes(.seconds(20))]
        ops["prepare"] = prepare
        return RunnerTests.Harness(operations: ops)
    }

    @Test func itIsPreparedAfterThePreflightAndBeforeTheLoad() async throws {
        let h = harness(prepare: .takes(.seconds(40), OperationOutcome("orders application at 0001, seeded 5000 orders")))
        let obs = await h.runner.run(addColumnOnFake)
        #expect(obs.harnessErrors.isEmpty && obs.unsupported == nil, "\(obs.harnessErrors) \(obs.unsupported ?? [])")
        let j = h.journal.all
        let prepared = try #require(j.firstIndex(of: "prepare 0001"), "\(j)")
        let loadOn = try #require(j.firstIndex { $0.hasPrefix("load on") }, "\(j)")
        #expect(prepared < loadOn, "prepared before the load starts: \(j)")
        #expect(obs.events.contains { $0.kind == .operationFinished && $0.detail == "orders application at 0001, seeded 5000 orders" })
        // Not a step: the migrate step's result is the only operation result, and the steady state starts after it.
        #expect(obs.operations?.map(\.operation) == [.migrate(revision: "0006")])
    }

    @Test func anEnvironmentWithoutItSkipsEveryVerdictAndStartsNoLoad() async throws {
        let h = harness(prepare: nil)
        let obs = await h.runner.run(addColumnOnFake)
        #expect(obs.unsupported == ["the fake cluster has no application"], "\(obs.unsupported ?? [])")
        #expect(!h.journal.all.contains { $0.hasPrefix("load on") }, "\(h.journal.all)")
        let vs = Assertions.evaluate(addColumnOnFake, obs)
        #expect(vs.allSatisfy { $0.result.status == .skipped }, "\(vs.map { "\($0.id)=\($0.result.status)" })")
    }

    @Test func aFailedPreparationIsTheHarnesssError() async throws {
        let h = harness(prepare: .fails(after: .seconds(2), "psql: seed.sql failed"))
        let obs = await h.runner.run(addColumnOnFake)
        #expect(obs.harnessErrors == ["preparing the orders application at revision 0001 with ≥ 5000 orders: psql: seed.sql failed"],
                "\(obs.harnessErrors)")
        #expect(!h.journal.all.contains { $0.hasPrefix("load on") })
        #expect(ExitStatus.of(Assertions.evaluate(addColumnOnFake, obs)) == .harnessError)
    }
}
