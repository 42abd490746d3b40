import Faultline

/// Cut the primary off from etcd only: Patroni demotes it, a replica takes over; no split brain, nothing lost.
/// See docs/faults.md for how the fault is injected and healed, and measured results.
public let partitionPrimaryFromDCS = Scenario(
    "partition-dcs",
    summary: "Cut the primary off from etcd only: Patroni demotes it, a replica takes over; no split brain, nothing lost.",
    tags: [.failover, .network, .nightly]
) {
    Targets(rto: .seconds(60), lostWrites: 0, settle: .seconds(90))
    Load(.ledgerWrites(rate: 100), .replicaReads(rate: 50))
    SteadyState(for: .seconds(10))
    Inject(.partitionFromDCS(.primary))
    Await(.newPrimary, within: .seconds(45))
    Heal()
    Expect(.clusterHealthy(members: 3, sync: 1), within: .seconds(90))
}
