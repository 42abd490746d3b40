import Faultline

/// Pause WAL replay on the async replica (pg_wal_replay_pause) for 20 s. Measured: Patroni 4.1.5 resumes
/// paused replay by itself within one loop ("Resuming paused WAL replay for PostgreSQL 14+"), so the lag
/// stays small; the lag-recovery verdict still applies. See docs/faults.md.
public let pauseReplay = Scenario(
    "pause-replay",
    summary: "pg_wal_replay_pause() on the async replica for 20 s: what Patroni does about it, lag during and after; nothing lost.",
    tags: [.replication, .nightly]
) {
    Targets(rto: .seconds(30), lostWrites: 0, settle: .seconds(60))
    Load(.ledgerWrites(rate: 100), .replicaReads(rate: 50))
    SteadyState(for: .seconds(10))
    Inject(.pauseReplay(.asyncReplica))
    Hold(for: .seconds(20))
    Heal()
    Expect(.clusterHealthy(members: 3, sync: 1), within: .seconds(60))
}
