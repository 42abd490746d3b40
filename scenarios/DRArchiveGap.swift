import Faultline

/// The control that must FAIL: dr-drill with one archived WAL segment after the backup removed. The environment's
/// check before the destroy finds the gap and refuses to destroy (the destroy operation fails, the rest is skipped):
/// a drill that passes here means the harness cannot see a broken archive.
public let drArchiveGap = Scenario(
    "dr-archive-gap",
    summary: "Control, must FAIL: dr-drill with one archived WAL segment removed after the mark; the check before the destroy finds the gap and refuses to destroy.",
    tags: [.dr, .control]
) {
    Targets(rto: .minutes(30), lostWrites: 0, settle: .seconds(120), rpo: .minutes(5))
    Load(.ledgerWrites(rate: 50), .replicaReads(rate: 50))
    SteadyState(for: .seconds(10))
    Backup(.full, repo: "1", within: .minutes(5))
    Hold(for: .seconds(5))
    Mark("target")
    Hold(for: .seconds(10))
    RemoveArchivedWAL(repo: "1")
    Destroy()
    Restore(to: "target", repo: "1", within: .minutes(30))
    Expect(.clusterHealthy(members: 3, sync: 1), within: .seconds(120))
}
