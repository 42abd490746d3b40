import Faultline

/// A sudden loss, no warning and no chosen instant: writes at 200/s, the cluster destroyed, restored from repo 1 to
/// the end of the archive. RPO: the newest acknowledged commit back to the newest that survived, at most 5 minutes.
public let drSuddenLoss = Scenario(
    "dr-sudden-loss",
    summary: "Writes at 200/s, destroy the cluster without a mark, restore from repo 1 to the end of the archive: at most 5 min of acknowledged writes lost (RPO), restored within 30 min.",
    tags: [.dr, .nightly]
) {
    // What was not archived yet is lost: the count is reported (lost-writes), the RPO in time is what is judged.
    Targets(rto: .minutes(30), lostWrites: 100_000, settle: .seconds(120), rpo: .minutes(5))
    Load(.ledgerWrites(rate: 200), .replicaReads(rate: 50))
    SteadyState(for: .seconds(10))
    Backup(.full, repo: "1", within: .minutes(5))
    Hold(for: .seconds(15))
    Destroy()
    Restore(repo: "1", within: .minutes(30))
    Expect(.clusterHealthy(members: 3, sync: 1), within: .seconds(120))
}
