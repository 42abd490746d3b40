import Faultline

/// The lost-writes verdict's control: a known-bad configuration that must lose acknowledged writes. Synchronous
/// replication is turned off and any replica may take over whatever its lag (Patroni's dynamic configuration); the
/// primary is cut off from its replicas (PostgreSQL and Patroni ports; etcd reachable, so it keeps its leader key and
/// keeps acknowledging writes no replica receives; its WAL archive is cut off as well, so no replica can fetch
/// those writes from the archive), then killed. A replica takes over without those writes, and the
/// old primary's are rewound away when it rejoins. `lost-writes` must fail here; on the reference configuration
/// (synchronous_mode_strict) the same cut blocks every commit instead (`partition-replicas`), and the kill that
/// follows loses nothing (`kill-primary`). The heal turns synchronous replication back on.
/// See docs/faults.md ("The lost-writes control") for measured runs.
public let asyncFailoverLoss = Scenario(
    "async-failover-loss",
    summary: "Control: synchronous replication off (failover at any lag), the primary cut off from its replicas and its WAL archive for 10 s and then killed: a replica takes over without the writes the primary acknowledged alone, so the lost-writes verdict must fail.",
    tags: [.control, .failover, "operator-error"]
) {
    Targets(rto: .seconds(60), lostWrites: 0, settle: .seconds(90))
    Load(.ledgerWrites(rate: 100), .replicaReads(rate: 50))
    SteadyState(for: .seconds(10))
    Inject(.asyncReplication)
    // The archive too: a replica whose stream is cut falls back to restore_command, and would fetch a segment the
    // primary switched (archive_timeout) and archived during the cut; then only the writes after it were lost.
    Inject(.partition(.primary, from: .everyone, services: [.objectStore]))
    Inject(.partitionFromReplicas(.primary))
    Hold(for: .seconds(10))
    Inject(.killNode(.primary))
    Await(.newPrimary, within: .seconds(45))
    Heal()
    Expect(.clusterHealthy(members: 3, sync: 1), within: .seconds(90))
}
