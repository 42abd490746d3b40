import Faultline

/// Limit the sync standby's link to 256 kbit/s (tbf, both directions) for 20 s: commit latency and lag grow, lag recovers after the heal.
/// See docs/faults.md for how the fault is injected and healed, and measured results.
public let bandwidthReplica = Scenario(
    "bandwidth-replica",
    summary: "Limit the sync standby's link to 256 kbit/s (tbf, both directions) for 20 s: commit latency and lag grow, lag recovers after the heal.",
    tags: [.network, .nightly]
) {
    Targets(rto: .seconds(30), lostWrites: 0, settle: .seconds(60))
    Load(.ledgerWrites(rate: 100), .replicaReads(rate: 50))
    SteadyState(for: .seconds(10))
    Inject(.bandwidth(.syncStandby, kbit: 256))
    Hold(for: .seconds(20))
    Heal()
    Expect(.clusterHealthy(members: 3, sync: 1), within: .seconds(60))
}
