import Faultline
import FaultlinePG
import Testing
@testable import FaultlineLoad

/// Connect failures that mean "server full", and the load config's connection policy.
@Suite struct ConnectionLimitClassificationTests {
    @Test(arguments: [
        #"connection to server at "10.93.0.1", port 5000 failed: FATAL:  remaining connection slots are reserved for non-replication superuser connections"#,
        #"connection to server at "10.93.0.12", port 5432 failed: FATAL:  sorry, too many clients already"#,
        "FATAL:  too many connections for role \"faultline\"",
        "FATAL:  too many connections for database \"faultline\"",
        "ERROR:  no more connections allowed (max_client_conn)",
    ])
    func fullServerIsTooManyConnections(_ message: String) {
        let e = PGError(kind: .connectFailed, message: message)
        #expect(ErrorClassifier.outcome(for: e, phase: .connect) == .tooManyConnections)
    }

    @Test(arguments: [
        #"connection to server at "10.93.0.1", port 5000 failed: Connection refused"#,
        #"connection to server at "10.93.0.1", port 5000 failed: server closed the connection unexpectedly"#,
        "FATAL:  password authentication failed for user \"faultline\"",
        "connect timed out after 3.0 seconds",
        "",
    ])
    func otherConnectFailuresAreRefused(_ message: String) {
        #expect(ErrorClassifier.outcome(for: PGError(kind: .connectFailed, message: message), phase: .connect) == .connectionRefused)
        #expect(ErrorClassifier.outcome(for: PGError(kind: .timeout, message: message), phase: .connect) == .connectionRefused)
    }

    @Test func sqlState53300OnConnectIsTooManyConnections() {
        #expect(ErrorClassifier.outcome(kind: .connectFailed, sqlState: "53300", phase: .connect) == .tooManyConnections)
        // After the connect, class 53 at COMMIT stays indeterminate.
        #expect(ErrorClassifier.outcome(kind: .server, sqlState: "53300", phase: .commit) == .indeterminate)
    }

    @Test func everyOutcomeHasItsOwnSlot() {
        let slots = Outcome.allCases.map(\.slot)
        #expect(Set(slots).count == Outcome.allCases.count)
        #expect(slots.allSatisfy { (0..<Outcome.slotCount).contains($0) })
        #expect(Outcome.ok.slot == 0)
    }

    @Test func windowsCountTheNewOutcomesAsErrors() {
        var acc = WindowAccumulator()
        acc.record(.tooManyConnections, latencyUs: nil)
        acc.record(.clientBackoff, latencyUs: nil)
        acc.record(.ok, latencyUs: 1_000)
        #expect(acc.errorCount == 2)
        #expect(acc.errors == [.tooManyConnections: 1, .clientBackoff: 1])
    }
}

@Suite struct LoadConnectPolicyConfigTests {
    func config(_ connect: ConnectionPolicy) -> LoadConfig {
        LoadConfig(workloads: [WorkloadConfig(kind: .ledger, conninfo: "host=127.0.0.1", clients: 4, connect: connect)], runID: "r1", seed: 1)
    }

    @Test(arguments: [ConnectionPolicy.persistent, .perTransaction, .perTransaction(share: 0.25)])
    func validPoliciesPass(_ p: ConnectionPolicy) throws {
        try config(p).validate()
    }

    @Test(arguments: [-0.1, 1.5, Double.nan, Double.infinity])
    func outOfRangeSharesAreRefused(_ share: Double) {
        #expect(throws: LoadConfigError.self) { try config(ConnectionPolicy(perTransactionShare: share)).validate() }
    }

    @Test func defaultIsPersistent() {
        #expect(WorkloadConfig(kind: .reads, conninfo: "host=x").connect == .persistent)
    }
}
