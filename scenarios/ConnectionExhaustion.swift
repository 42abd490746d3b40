import Faultline

/// Hold every connection PostgreSQL admits on the primary for 15 s: new client connections are refused; measure errors and recovery after release.
/// The writers connect per transaction (pgbench `-C`): clients that keep their connections would not notice.
/// See docs/faults.md for how the fault is injected and healed, and measured results.
public let connectionExhaustion = Scenario(
    "connection-exhaustion",
    summary: "Hold every connection PostgreSQL admits on the primary for 15 s; writers connect per transaction (like pgbench -C), so new connections are refused: measure the errors during the fault and the recovery after release.",
    tags: [.resources, .nightly]
) {
    Targets(rto: .seconds(45), lostWrites: 0, settle: .seconds(60))
    Load(.ledgerWrites(rate: 50, connect: .perTransaction), .replicaReads(rate: 50))
    SteadyState(for: .seconds(10))
    Inject(.exhaustConnections(.postgres(.primary)))
    Hold(for: .seconds(15))
    Heal()
    Expect(.clusterHealthy(members: 3, sync: 1), within: .seconds(60))
}
