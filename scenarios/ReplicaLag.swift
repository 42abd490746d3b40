import Faultline

/// Throttle the async replica's PostgreSQL traffic to 32 kbit/s: replay lag (bytes, seconds) grows and the lag alert fires during the fault; lag is back under its bound, and the alert resolved, within the settle time after the heal.
/// See docs/faults.md for how the fault is injected and healed, and measured results.
public let replicaLag = Scenario(
    "replica-lag",
    summary: "Throttle the async replica's PostgreSQL traffic to 32 kbit/s: replay lag (bytes, seconds) grows and the lag alert fires during the fault; lag is back under its bound, and the alert resolved, within the settle time after the heal.",
    tags: [.replication, .nightly]
) {
    Targets(rto: .seconds(30), lostWrites: 0, settle: .seconds(60))
    Load(.ledgerWrites(rate: 100), .replicaReads(rate: 50))
    SteadyState(for: .seconds(10))
    Inject(.bandwidth(.asyncReplica, kbit: 32))
    // The lag alert (ci profile: lag > 3 s for 2 s) fires, and resolves after the heal. Only PostgreSQL's
    // port is throttled, so the replica's metrics still reach Prometheus.
    Expect(.alertFiring(AlertName.replicationLagWarning), within: .seconds(30))
    Hold(for: .seconds(10))
    Heal()
    Expect(.clusterHealthy(members: 3, sync: 1), within: .seconds(60))
    Expect(.alertResolved(AlertName.replicationLagWarning), within: .seconds(60))
}
