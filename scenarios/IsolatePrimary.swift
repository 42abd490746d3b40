import Faultline

/// Isolate the primary from clients, replicas and etcd: failover within the RTO, the old primary demoted, never two members accepting writes, no acknowledged write lost.
/// See docs/faults.md for how the fault is injected and healed, and measured results.
public let isolatePrimary = Scenario(
    "isolate-primary",
    summary: "Isolate the primary from clients, replicas and etcd: failover within the RTO, the old primary demoted, never two members accepting writes, no acknowledged write lost.",
    tags: [.failover, .network, .nightly]
) {
    Targets(rto: .seconds(60), lostWrites: 0, settle: .seconds(90))
    Load(.ledgerWrites(rate: 100), .replicaReads(rate: 50))
    SteadyState(for: .seconds(10))
    Inject(.isolate(.primary))
    Await(.newPrimary, within: .seconds(45))
    Hold(for: .seconds(5))
    Heal()
    Expect(.clusterHealthy(members: 3, sync: 1), within: .seconds(90))
}
