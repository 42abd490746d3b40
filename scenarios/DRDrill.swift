import Faultline

/// Disaster-recovery drill: a full backup to repo 1, writes, a mark T, more writes, the cluster destroyed and restored
/// from repo 1 to T. Every write acknowledged at or before T is back, none committed after T is; the restore takes
/// at most 30 minutes (RTO) and loses at most 5 minutes (RPO). The run writes runbook.md: the commands, in order.
public let drDrill = Scenario(
    "dr-drill",
    summary: "Full backup to repo 1, writes, mark T, more writes, destroy the cluster, restore from repo 1 to T: every write acknowledged up to T is back, none after T; RTO ≤ 30 min, RPO ≤ 5 min.",
    tags: [.dr, .nightly]
) {
    Targets(rto: .minutes(30), lostWrites: 0, settle: .seconds(120), rpo: .minutes(5))
    Load(.ledgerWrites(rate: 50), .replicaReads(rate: 50))
    SteadyState(for: .seconds(10))
    Backup(.full, repo: "1", within: .minutes(5))
    Hold(for: .seconds(5))
    Mark("target")
    // Writes after T: the restore must leave every one of them out.
    Hold(for: .seconds(10))
    Destroy()
    Restore(to: "target", repo: "1", within: .minutes(30))
    Expect(.clusterHealthy(members: 3, sync: 1), within: .seconds(120))
}
