import Faultline

/// A double fault: SIGSTOP Patroni on the sync standby (under synchronous_mode_strict the only member
/// allowed to promote), then SIGKILL the primary node. The leader key expires after ttl and nobody may
/// take it: the async replica refuses ("not the healthiest node"). NoLeader and PrimaryDown fire; after
/// the heal a leader is back, nothing acknowledged is lost, and there is never a split brain.
/// See docs/faults.md for how the faults are injected and healed, and measured results.
public let noLeader = Scenario(
    "no-leader",
    summary: "Pause Patroni on the sync standby, then kill the primary node: the leader lock expires and stays free (the async replica may not promote); NoLeader and PrimaryDown fire, and resolve once the heal brings a leader back; no acknowledged write lost.",
    tags: [.failover, .process, "alerts", .nightly]
) {
    // Writes stop at the kill and come back only after the heal: the RTO is the fault's hold, not a failover.
    Targets(rto: .seconds(120), lostWrites: 0, settle: .seconds(90))
    Load(.ledgerWrites(rate: 100), .replicaReads(rate: 50))
    SteadyState(for: .seconds(10))
    Inject(.pause(.syncStandby, .patroni))
    Inject(.killNode(.primary))
    // PrimaryDown (ci: 3 s) follows the kill at once; NoLeader needs the leader key to expire first
    // (ttl 20 s), then `for:` (ci: 3 s).
    Expect(.alertFiring(AlertName.primaryDown), within: .seconds(30))
    Expect(.alertFiring(AlertName.noLeader), within: .seconds(45))
    // The lock stays free: nobody promotes while the fault holds (NoLeader keeps firing).
    Hold(for: .seconds(10))
    Heal()
    Expect(.primaryRecovered, within: .seconds(60))
    Expect(.clusterHealthy(members: 3, sync: 1), within: .seconds(90))
    Expect(.alertResolved(AlertName.noLeader), within: .seconds(30))
    Expect(.alertResolved(AlertName.primaryDown), within: .seconds(30))
}
