import Faultline

/// Drop 5 % of the primary's packets (iptables statistic) for 20 s: measure latency and lag; nothing lost.
/// See docs/faults.md for how the fault is injected and healed, and measured results.
public let packetLoss5 = Scenario(
    "packet-loss-5",
    summary: "Drop 5 % of the primary's packets (iptables statistic) for 20 s: measure latency and lag; nothing lost.",
    tags: [.network, .nightly]
) {
    Targets(rto: .seconds(30), lostWrites: 0, settle: .seconds(60))
    Load(.ledgerWrites(rate: 100), .replicaReads(rate: 50))
    SteadyState(for: .seconds(10))
    Inject(.packetLoss(.primary, percent: 5))
    Hold(for: .seconds(20))
    Heal()
    Expect(.clusterHealthy(members: 3, sync: 1), within: .seconds(60))
}
