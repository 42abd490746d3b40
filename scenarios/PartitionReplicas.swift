import Faultline

/// Partition the primary from its replicas (PostgreSQL and Patroni ports; etcd reachable). The leader keeps its
/// key, so there is no failover: strict synchronous mode (the local environment's) must block every commit until
/// the heal, since no standby can confirm it. Verdicts: writes blocked during the partition, none acknowledged
/// lost, no split brain, writes back soon after the heal. No RTO: writes are meant not to recover before the heal.
/// See docs/faults.md for how the fault is injected and healed, and measured results.
public let partitionPrimaryFromReplicas = Scenario(
    "partition-replicas",
    summary: "Partition the primary from its replicas (PostgreSQL and Patroni ports; etcd reachable): strict synchronous mode must block commits until the heal; nothing acknowledged is lost; writes come back after the heal.",
    tags: [.network, .nightly]
) {
    // After the heal, the replication connections resume at their next TCP retransmission (the partition dropped
    // packets, no reset): commits still waiting then time out after the heal has finished. `writes-back-after-heal`
    // judges that return (from the heal's start, over a 20 s observation) and lists those errors; an after-heal
    // error budget counted from the heal's end would fail on them by design, so there is none.
    Targets(rto: nil, lostWrites: 0, settle: .seconds(90), errorBudgetAfter: nil, observeAfterHeal: .seconds(20),
            writesDuringFault: .blocked, writesBackAfterHeal: .seconds(30))
    Load(.ledgerWrites(rate: 100), .replicaReads(rate: 50))
    SteadyState(for: .seconds(10))
    Inject(.partitionFromReplicas(.primary))
    Hold(for: .seconds(20))
    Heal()
    Expect(.clusterHealthy(members: 3, sync: 1), within: .seconds(90))
}
