import Faultline

/// Drop 30 % of the primary's packets (iptables statistic) for 20 s: measure latency, errors and lag; nothing lost.
/// See docs/faults.md for how the fault is injected and healed, and measured results.
public let packetLoss30 = Scenario(
    "packet-loss-30",
    summary: "Drop 30 % of the primary's packets (iptables statistic) for 20 s: measure latency, errors and lag; nothing lost.",
    tags: [.network, .nightly]
) {
    Targets(rto: .seconds(60), lostWrites: 0, settle: .seconds(90))
    Load(.ledgerWrites(rate: 100), .replicaReads(rate: 50))
    SteadyState(for: .seconds(10))
    Inject(.packetLoss(.primary, percent: 30))
    Hold(for: .seconds(20))
    Heal()
    Expect(.clusterHealthy(members: 3, sync: 1), within: .seconds(90))
}
