import Faultline

/// The primary is killed in the middle of the batched backfill (0003): the migration loses its connection, waits for
/// the new primary behind HAProxy and resumes after its last committed batch; it ends at 0006 with every row filled
/// and the schema of a fresh migration. No acknowledged write is lost; writes are back within 30 s.
public let migrateFailoverBackfill = Scenario(
    "migrate-failover-backfill",
    summary: "Kill the primary during the batched backfill of 1 M orders: the migration resumes on the new primary and ends at 0006 with the schema of a fresh migration; 0 acknowledged writes lost, RTO ≤ 30 s.",
    tags: [.migration, .failover, .nightly]
) {
    Targets(rto: .seconds(30), lostWrites: 0, settle: .seconds(60), migration: .completion)
    Application(at: "0002", orders: 1_000_000)
    Load(.orders(rate: 50, version: .v1), .ledgerWrites(rate: 50))
    SteadyState(for: .seconds(10))
    StartMigration(to: "0006")
    Hold(for: .seconds(5))  // into the backfill (about 35 s for 1 M rows); StartMigration returns as 0003 begins
    Inject(.killNode(.primary))
    Await(.newPrimary, within: .seconds(30))
    Heal()
    Expect(.clusterHealthy(members: 3, sync: 1), within: .seconds(60))
    FinishMigration(within: .minutes(5))
}
