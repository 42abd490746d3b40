import Faultline

/// Break WAL archiving on the primary (its traffic to the S3 object store dropped, then a WAL switch): writes go on while the segments wait in pg_wal, the archiving alert fires; after the heal the archiver catches up and the alert resolves; nothing acknowledged is lost.
/// See docs/faults.md for how the fault is injected and healed, and measured results.
public let walArchiveFailure = Scenario(
    "wal-archive-failure",
    summary: "Break WAL archiving on the primary (its traffic to the S3 object store dropped, then a WAL switch): writes go on while the segments wait in pg_wal, the archiving alert fires; after the heal the archiver catches up and the alert resolves; nothing acknowledged is lost.",
    tags: [.resources, .nightly]
) {
    // Archiving is off the commit path: writes must not notice the fault at all.
    Targets(rto: .seconds(5), lostWrites: 0, settle: .seconds(90), errorBudgetDuring: 0.01)
    Load(.ledgerWrites(rate: 100), .replicaReads(rate: 50))
    SteadyState(for: .seconds(10))
    Inject(.breakArchiving(.primary))
    // archive-push gives up on each of the two repositories after ~17.5 s (pgBackRest retries; io-timeout 1 s), ~35 s
    // in all; the alert (ci profile: failing for 3 s) then fires: 41.2-42.1 s after the fault in seven CI runs.
    Expect(.alertFiring(AlertName.walArchivingFailing), within: .seconds(60))
    Hold(for: .seconds(10))
    Heal()
    Expect(.clusterHealthy(members: 3, sync: 1), within: .seconds(60))
    // The archiver retries the waiting segments on its own (at the latest after 60 s, PostgreSQL's
    // archiver wake-up interval); the first success resolves the alert.
    Expect(.alertResolved(AlertName.walArchivingFailing), within: .seconds(90))
}
