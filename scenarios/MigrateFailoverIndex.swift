import Faultline

/// The primary is killed during `CREATE INDEX CONCURRENTLY` (0010): the build dies and leaves an INVALID index; the
/// migration resumes on the new primary, finds the INVALID index, drops it and builds it again, and ends at 0012 with
/// the index valid. No acknowledged write is lost; writes are back within 30 s.
public let migrateFailoverIndex = Scenario(
    "migrate-failover-index",
    summary: "Kill the primary during CREATE INDEX CONCURRENTLY on 1 M orders: the migration resumes, drops the INVALID leftover, rebuilds it and ends at 0012; 0 acknowledged writes lost, RTO ≤ 30 s.",
    tags: [.migration, .failover, .nightly]
) {
    Targets(rto: .seconds(30), lostWrites: 0, settle: .seconds(60), migration: .completion)
    Application(at: "0009", orders: 1_000_000)
    Load(.orders(rate: 50, version: .v3), .ledgerWrites(rate: 50))
    SteadyState(for: .seconds(10))
    StartMigration(to: "0012")
    Hold(for: .milliseconds(500))  // into the build (1-2.5 s here); StartMigration returns as 0010 begins
    Inject(.killNode(.primary))
    Await(.newPrimary, within: .seconds(30))
    Heal()
    Expect(.clusterHealthy(members: 3, sync: 1), within: .seconds(60))
    FinishMigration(within: .minutes(5))
}
