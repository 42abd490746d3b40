import Foundation
import Logging
import Testing
@testable import Faultline

/// The orders workload's model: application versions, the rolling deploy's assignment, coding, and the runner
/// sending `.switchWorkload` to the load driver.
@Suite struct OrdersWorkloadTests {
    @Test func appVersionParsesItsNamesAndRejectsOthersInOneLine() throws {
        #expect(try AppVersion.parse("v2") == .v2)
        #expect(try AppVersion.parse(" V3 ") == .v3)
        for bad in ["v4", "", "2", "v1 v2"] {
            #expect(throws: InputError.self) { try AppVersion.parse(bad) }
            do { _ = try AppVersion.parse(bad) } catch {
                #expect(error.message.contains("'\(bad)'") && error.message.contains("v1, v2, v3"))
                #expect(!error.message.contains("\n"))
            }
        }
    }

    @Test func rolloutGivesTheVersionToTheFirstShareOfTheClients() throws {
        let four = [AppVersion](repeating: .v1, count: 4)
        #expect(try AppVersion.rollout(four, to: .v2, share: 0.5) == [.v2, .v2, .v1, .v1])
        #expect(try AppVersion.rollout(four, to: .v2, share: 0.1) == [.v2, .v1, .v1, .v1], "at least one client")
        #expect(try AppVersion.rollout(four, to: .v2, share: 0.375) == [.v2, .v2, .v1, .v1], "1.5 rounds to 2")
        #expect(try AppVersion.rollout(four, to: .v2, share: 1) == [.v2, .v2, .v2, .v2])
        #expect(try AppVersion.rollout(four, to: .v3, share: nil) == [.v3, .v3, .v3, .v3], "nil: every client")
        #expect(try AppVersion.rollout([], to: .v2, share: 0.5) == [])
        for bad in [0, -0.5, 1.5, Double.nan, .infinity] {
            #expect(throws: InputError.self) { try AppVersion.rollout(four, to: .v2, share: bad) }
        }
    }

    @Test func repeatedSwitchesKeepWhatTheOtherClientsRun() throws {
        var v = [AppVersion](repeating: .v1, count: 4)
        v = try AppVersion.rollout(v, to: .v2, share: 0.25)
        #expect(v == [.v2, .v1, .v1, .v1])
        v = try AppVersion.rollout(v, to: .v2, share: 0.5)
        #expect(v == [.v2, .v2, .v1, .v1])
        v = try AppVersion.rollout(v, to: .v3, share: 0.25)
        #expect(v == [.v3, .v2, .v1, .v1], "the rest keep what they run, each its own")
        #expect(AppVersion.summary(v, switchedTo: .v3) == "1 of 4 orders clients on v3, 1 on v2, 2 on v1")
        v = try AppVersion.rollout(v, to: .v1, share: 0.25)
        #expect(v == [.v1, .v2, .v1, .v1], "a rollback is a switch too")
        v = try AppVersion.rollout(v, to: .v2, share: nil)
        #expect(v == [.v2, .v2, .v2, .v2])
        #expect(AppVersion.summary(v, switchedTo: .v2) == "4 of 4 orders clients on v2")
        #expect(AppVersion.summary([.v2, .v2, .v1, .v1], switchedTo: .v2) == "2 of 4 orders clients on v2, 2 on v1")
    }

    @Test func ordersIsNotTheWriteWorkloadAndDescribesItsVersion() {
        let w = Workload.orders(rate: 50, version: .v2)
        #expect(w.name == "orders" && w.rate == 50 && w.connect == .persistent && w.appVersion == .v2)
        #expect(!w.isWrite, "the ledger stays the lost-writes workload")
        #expect(w.withRate(80) == .orders(rate: 80, version: .v2))
        #expect(w.description == "orders v2 at 50/s")
        #expect(Workload.orders(rate: 5, connect: .perTransaction).description == "orders v1 at 5/s, connecting per-transaction")
        #expect(Workload.ledgerWrites(rate: 100).description == "ledger-writes at 100/s")
        #expect(Workload.ledgerWrites(rate: 100).appVersion == nil)
        let s = Scenario("orders-only", summary: "x") {
            Load(.orders(rate: 10))
            SteadyState(for: .seconds(1))
        }
        #expect(!s.hasWrites)
    }

    @Test func readRateLeavesTheOrdersWorkloadAlone() throws {
        let s = Scenario("p", summary: "x") {
            Load(.replicaReads(rate: 10), .orders(rate: 10, version: .v3), .ledgerWrites(rate: 10))
            SteadyState(for: .seconds(1))
        }
        let o = s.applying(try ParameterOverride.parseAll(["read-rate=99"]))
        #expect(o.workloads == [.replicaReads(rate: 99), .orders(rate: 10, version: .v3), .ledgerWrites(rate: 10)])
    }

    @Test func workloadsRoundTripThroughJSONAndOldDocumentsStillDecode() throws {
        func json(_ w: Workload) throws -> String {
            let e = JSONEncoder()
            e.outputFormatting = .sortedKeys
            return String(decoding: try e.encode(w), as: UTF8.self)
        }
        func decode(_ s: String) throws -> Workload { try JSONDecoder().decode(Workload.self, from: Data(s.utf8)) }
        let all: [Workload] = [.orders(rate: 50), .orders(rate: 5, version: .v3, connect: .perTransaction(share: 0.25)),
                               .ledgerWrites(rate: 100), .replicaReads(rate: 7, connect: .perTransaction)]
        for w in all { #expect(try decode(try json(w)) == w) }
        #expect(try json(.orders(rate: 50, version: .v2)) == #"{"kind":"orders","rate":50,"version":"v2"}"#)
        // The other workloads' form is unchanged: no version field.
        #expect(try json(.ledgerWrites(rate: 100)) == #"{"kind":"ledger-writes","rate":100}"#)
        #expect(try decode(#"{"kind":"ledger-writes","rate":100}"#) == .ledgerWrites(rate: 100))
        #expect(try decode(#"{"kind":"replica-reads","rate":3}"#) == .replicaReads(rate: 3))
        #expect(throws: DecodingError.self) { try decode(#"{"kind":"orders","rate":50}"#) }
        #expect(throws: DecodingError.self) { try decode(#"{"kind":"orders","rate":50,"version":"v9"}"#) }
    }

    @Test func versionTotalsAreOptionalInLoadObservations() throws {
        let old = #"{"windows":[],"acked":[],"indeterminate":[],"latency":{},"totals":{"orders":{"ok":3,"errors":{},"unsent":0,"otherSQLStates":{}}},"notes":[]}"#
        let o = try JSONDecoder().decode(LoadObservations.self, from: Data(old.utf8))
        #expect(o.versions == nil && o.totals["orders"]?.ok == 3)
        var n = LoadObservations()
        n.versions = ["v1": WorkloadTotals(ok: 2, errors: [.otherSQLState: 5], otherSQLStates: ["42703": 5]), "v2": WorkloadTotals(ok: 9)]
        let back = try JSONDecoder().decode(LoadObservations.self, from: JSONEncoder().encode(n))
        #expect(back == n && back.versions?["v1"]?.otherSQLStates == ["42703": 5])
        #expect(!String(decoding: try JSONEncoder().encode(LoadObservations()), as: UTF8.self).contains("versions"))
    }

    // MARK: - The runner

    static let rollingDeploy = Scenario("rolling-deploy", summary: "switch half, then all") {
        Load(.orders(rate: 100))
        SteadyState(for: .seconds(2))
        SwitchWorkload(to: "v2", share: 0.5)
        Hold(for: .seconds(1))
        SwitchWorkload(to: "v2")
    }

    struct Run {
        let journal = Journal()
        let runner: Runner<VirtualClock>

        init(onSwitch: (@Sendable (String, Double?) throws -> String)?) {
            let clock = VirtualClock()
            let (_, cont) = AsyncStream<Void>.makeStream()
            let cluster = FakeCluster(clock: clock, journal: journal, mode: .normal, applyStarted: cont,
                                      operations: ["switch-workload": .takes(.zero, OperationOutcome("the environment's"))])
            let load = FakeLoad(observations: LoadObservations(), journal: journal, onSwitch: onSwitch)
            runner = Runner(environment: cluster, load: load, ledger: InMemoryLedger(journal: journal), clock: clock, runId: "r1",
                            logger: Logger(label: "test"))
        }
    }

    @Test func theRunnerSendsAWorkloadSwitchToTheLoadDriverNotTheEnvironment() async throws {
        let r = Run { v, share in share == nil ? "4 of 4 orders clients on \(v)" : "2 of 4 orders clients on \(v), 2 on v1" }
        let obs = await r.runner.run(Self.rollingDeploy)
        #expect(obs.harnessErrors.isEmpty && (obs.unsupported ?? []).isEmpty)
        let j = r.journal.all
        #expect(j.contains("switch v2 0.5") && j.contains("switch v2 all"), "\(j)")
        #expect(!j.contains { $0.hasPrefix("perform switch") }, "the environment is not asked: \(j)")
        let ops = try #require(obs.operations)
        #expect(ops.map(\.status) == [.succeeded, .succeeded])
        #expect(ops.map(\.outcome?.detail) == ["2 of 4 orders clients on v2, 2 on v1", "4 of 4 orders clients on v2"])
        let finished = obs.events.filter { $0.kind == .operationFinished }.map(\.detail)
        #expect(finished == ["switch the workload to version v2 for 50 % of the clients: 2 of 4 orders clients on v2, 2 on v1",
                             "switch the workload to version v2: 4 of 4 orders clients on v2"])
        #expect(obs.events.filter { $0.kind == .operationStarted }.count == 2)
    }

    @Test func aLoadDriverThatCannotSwitchMakesTheOperationUnsupported() async throws {
        let r = Run(onSwitch: nil)
        let obs = await r.runner.run(Self.rollingDeploy)
        #expect(obs.unsupported == ["switch the workload to version v2 for 50 % of the clients: the fake load cannot switch"])
        #expect(obs.operations?.map(\.status) == [.unsupported], "the steps after it do not run")
        #expect(obs.events.contains { $0.kind == .operationUnsupported })
    }

    @Test func aFailedSwitchFailsTheOperation() async throws {
        let r = Run { v, _ in throw FakeError("cannot switch the workload: application version '\(v)' is unknown") }
        let obs = await r.runner.run(Self.rollingDeploy)
        let op = try #require(obs.operations?.first)
        #expect(op.status == .failed && op.error == "cannot switch the workload: application version 'v2' is unknown")
        #expect(obs.operations?.count == 1)
        #expect(obs.events.first { $0.kind == .operationFailed }?.detail
                == "switch the workload to version v2 for 50 % of the clients: cannot switch the workload: application version 'v2' is unknown")
    }

    @Test func theDefaultLoadDriverCannotSwitch() async {
        struct Bare: LoadDriver {
            func run(_ workloads: [Workload]) async throws -> LoadObservations { LoadObservations() }
            func progress() async -> LoadProgress { LoadProgress() }
            func verifyWrites(_ ids: [String]) async throws -> [String] { [] }
        }
        await #expect(throws: OperationUnsupported.self) { try await Bare().switchWorkload(version: "v2", share: nil) }
    }
}
