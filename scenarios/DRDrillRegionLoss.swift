import Faultline

/// dr-drill after losing a region: full backups to repos 1 and 2, then the cluster and repo 1 both destroyed; the
/// restore to T comes from repo 2 alone, with the same bounds (RTO ≤ 30 min, RPO ≤ 5 min, nothing up to T lost).
public let drDrillRegionLoss = Scenario(
    "dr-drill-region-loss",
    summary: "dr-drill with a second repository: full backups to repos 1 and 2, destroy the cluster and repo 1, restore from repo 2 to T: every write acknowledged up to T is back, none after T.",
    tags: [.dr, .nightly]
) {
    Targets(rto: .minutes(30), lostWrites: 0, settle: .seconds(120), rpo: .minutes(5))
    Load(.ledgerWrites(rate: 50), .replicaReads(rate: 50))
    SteadyState(for: .seconds(10))
    Backup(.full, repo: "1", within: .minutes(5))
    Backup(.full, repo: "2", within: .minutes(5))
    Hold(for: .seconds(5))
    Mark("target")
    Hold(for: .seconds(10))
    Destroy()
    DestroyRepository("1")
    Restore(to: "target", repo: "2", within: .minutes(30))
    Expect(.clusterHealthy(members: 3, sync: 1), within: .seconds(120))
}
