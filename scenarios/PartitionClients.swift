import Faultline

/// Partition the clients (HAProxy, PgBouncer) from the primary: writes fail while it lasts, the cluster does not fail over, writes resume after the heal.
/// See docs/faults.md for how the fault is injected and healed, and measured results.
public let partitionClientsFromPrimary = Scenario(
    "partition-clients",
    summary: "Partition the clients (HAProxy, PgBouncer) from the primary: writes fail while it lasts, the cluster does not fail over, writes resume after the heal.",
    tags: [.network, .nightly]
) {
    Targets(rto: .seconds(45), lostWrites: 0, settle: .seconds(60))
    Load(.ledgerWrites(rate: 100), .replicaReads(rate: 50))
    SteadyState(for: .seconds(10))
    Inject(.partitionFromClients(.primary))
    Hold(for: .seconds(15))
    Heal()
    Expect(.clusterHealthy(members: 3, sync: 1), within: .seconds(60))
}
