import Faultline

/// Isolate the primary, then heal the moment a new primary is seen: the returning old primary must
/// rejoin as a replica without taking the leader key back. This is the window where Debian's Patroni
/// 3.0.2 (etcd v3 API) overwrote the new leader's key and lost acknowledged writes; see docs/faults.md.
public let isolatePrimaryQuickHeal = Scenario(
    "isolate-primary-quick-heal",
    summary: "Isolate the primary and heal as soon as a new primary is seen: the old primary rejoins without taking the leader key back; no split brain, no acknowledged write lost.",
    tags: [.failover, .network]
) {
    Targets(rto: .seconds(60), lostWrites: 0, settle: .seconds(90))
    Load(.ledgerWrites(rate: 100), .replicaReads(rate: 50))
    SteadyState(for: .seconds(10))
    Inject(.isolate(.primary))
    Await(.newPrimary, within: .seconds(45))
    Heal()
    Expect(.clusterHealthy(members: 3, sync: 1), within: .seconds(90))
}
