import Faultline

/// Delay the primary's packets by 100 ms with tc netem. Skipped (never passed) where the kernel has no sch_netem.
/// See docs/faults.md for how the fault is injected and healed, and measured results.
public let latencyNetem = Scenario(
    "latency-netem",
    summary: "Delay the primary's packets by 100 ms with tc netem. Skipped (never passed) where the kernel has no sch_netem.",
    tags: [.network, .nightly]
) {
    Targets(rto: .seconds(30), lostWrites: 0, settle: .seconds(60))
    Load(.ledgerWrites(rate: 100), .replicaReads(rate: 50))
    SteadyState(for: .seconds(10))
    Inject(.latency(.primary, ms: 100))
    Hold(for: .seconds(15))
    Heal()
    Expect(.clusterHealthy(members: 3, sync: 1), within: .seconds(60))
}
