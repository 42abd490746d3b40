import Faultline

/// Partition the primary from its replicas (PostgreSQL and Patroni ports; etcd reachable): synchronous mode blocks commits or not; nothing acknowledged is lost.
/// See docs/faults.md for how the fault is injected and healed, and measured results.
public let partitionPrimaryFromReplicas = Scenario(
    "partition-replicas",
    summary: "Partition the primary from its replicas (PostgreSQL and Patroni ports; etcd reachable): synchronous mode blocks commits or not; nothing acknowledged is lost.",
    tags: [.network, .nightly]
) {
    Targets(rto: .seconds(60), lostWrites: 0, settle: .seconds(90))
    Load(.ledgerWrites(rate: 100), .replicaReads(rate: 50))
    SteadyState(for: .seconds(10))
    Inject(.partitionFromReplicas(.primary))
    Hold(for: .seconds(20))
    Heal()
    Expect(.clusterHealthy(members: 3, sync: 1), within: .seconds(90))
}
