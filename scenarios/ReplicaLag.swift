import Faultline

/// Throttle the async replica's link to 32 kbit/s (tbf) for 20 s: replay lag (bytes, seconds) grows during the fault and must be back under its bound within the settle time after the heal.
/// See docs/faults.md for how the fault is injected and healed, and measured results.
public let replicaLag = Scenario(
    "replica-lag",
    summary: "Throttle the async replica's link to 32 kbit/s (tbf) for 20 s: replay lag (bytes, seconds) grows during the fault and must be back under its bound within the settle time after the heal.",
    tags: [.replication, .nightly]
) {
    Targets(rto: .seconds(30), lostWrites: 0, settle: .seconds(60))
    Load(.ledgerWrites(rate: 100), .replicaReads(rate: 50))
    SteadyState(for: .seconds(10))
    Inject(.bandwidth(.asyncReplica, kbit: 32))
    Hold(for: .seconds(20))
    Heal()
    Expect(.clusterHealthy(members: 3, sync: 1), within: .seconds(60))
}
