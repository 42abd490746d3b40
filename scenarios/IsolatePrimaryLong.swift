import Faultline

/// Isolate the primary for longer: the partition outlasts the old primary's own demotion (its shutdown waits
/// for its walsenders until `wal_sender_timeout`, 60 s), so when the network returns the old primary is a
/// demoted replica still cycling on the DCS view it had before the partition. That is the window in which
/// Debian's Patroni 3.0.2 (etcd v3 API) writes the leader key back without comparing it, promotes itself and
/// loses the new primary's acknowledged writes: the known-bad control of docs/faults.md.
public let isolatePrimaryLong = Scenario(
    "isolate-primary-long",
    summary: "Isolate the primary, keep it isolated 60 s after a new primary is seen, then heal: the old primary must rejoin as a replica without taking the leader key back; no split brain, no acknowledged write lost.",
    tags: [.failover, .network]
) {
    Targets(rto: .seconds(60), lostWrites: 0, settle: .seconds(90))
    Load(.ledgerWrites(rate: 100), .replicaReads(rate: 50))
    SteadyState(for: .seconds(10))
    Inject(.isolate(.primary))
    Await(.newPrimary, within: .seconds(45))
    Hold(for: .seconds(60))
    Heal()
    Expect(.clusterHealthy(members: 3, sync: 1), within: .seconds(90))
}
