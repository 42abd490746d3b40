import Faultline

/// Operator error: with cluster management paused (Patroni maintenance mode), a replica is promoted by
/// hand, so two members run as primary: the classic hand-made split brain. HAProxy routes writes by
/// Patroni's /primary, which needs the leader lock, so clients keep writing to the real leader. The
/// direct probes must see the split brain, FaultlineSplitBrain must fire, and the heal (maintenance mode
/// off; Patroni demotes and pg_rewinds the rogue) must end it with nothing acknowledged lost.
/// See docs/faults.md for how the fault is injected and healed, and measured results.
public let roguePromote = Scenario(
    "rogue-promote",
    summary: "Patroni maintenance mode on, then pg_promote() on the async replica by hand: two running primaries (split brain provoked on purpose and detected); FaultlineSplitBrain fires; maintenance mode off demotes and rewinds the rogue; no acknowledged write lost.",
    tags: ["operator-error", "alerts", .nightly]
) {
    Targets(rto: .seconds(30), lostWrites: 0, settle: .seconds(90))
    Load(.ledgerWrites(rate: 100), .replicaReads(rate: 50))
    SteadyState(for: .seconds(10))
    // The async replica: promoting the sync standby would also stall every commit on the real primary
    // (synchronous_mode_strict), a second fault on top of the first.
    Inject(.roguePromote(.asyncReplica))
    ExpectSplitBrain()
    Expect(.alertFiring(AlertName.splitBrain), within: .seconds(30))
    Hold(for: .seconds(5))
    Heal()
    Expect(.clusterHealthy(members: 3, sync: 1), within: .seconds(90))
    Expect(.alertResolved(AlertName.splitBrain), within: .seconds(30))
}
