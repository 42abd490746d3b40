import Faultline

/// Stop 2 of 3 etcd members: Patroni demotes the primary (failsafe mode off), no member accepts writes; after etcd returns, a leader again and nothing lost.
/// See docs/faults.md for how the fault is injected and healed, and measured results.
public let dcsQuorumLoss = Scenario(
    "dcs-quorum-loss",
    summary: "Stop 2 of 3 etcd members: Patroni demotes the primary (failsafe mode off), no member accepts writes; after etcd returns, a leader again and nothing lost.",
    tags: [.dcs, .nightly]
) {
    Targets(rto: .seconds(120), lostWrites: 0, settle: .seconds(90))
    Load(.ledgerWrites(rate: 100), .replicaReads(rate: 50))
    SteadyState(for: .seconds(10))
    Inject(.dcsQuorumLoss(stop: 2))
    Hold(for: .seconds(40))
    Heal()
    Expect(.clusterHealthy(members: 3, sync: 1), within: .seconds(90))
}
