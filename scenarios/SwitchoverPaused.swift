import Faultline

/// The planned switchover behind a paused pooler: PgBouncer's PAUSE first (its RESUME recorded in the fault ledger before
/// it takes effect), then the Patroni switchover, then RESUME once HAProxy's read-write port reaches the new primary.
/// The application's writes go through PgBouncer and wait instead of failing (docs/rto.md, "The pooler during a switchover").
public let switchoverPaused = Scenario(
    "switchover-paused",
    summary: "Planned switchover behind a paused PgBouncer (PAUSE, switch over, RESUME once routed): writes wait, none fail.",
    tags: [.planned, .pooler]
) {
    Targets(rto: .seconds(15), lostWrites: 0, settle: .seconds(60), errorBudgetAfter: 0.001, p99After: .milliseconds(250),
            observeAfterHeal: .seconds(5), writeErrors: 0, longestWriteWait: .seconds(10))
    WritesThrough(.pooler)
    Load(.ledgerWrites(rate: 200))
    SteadyState(for: .seconds(10))
    Inject(.pausePooler)
    Inject(.switchover(to: .syncStandby))
    Await(.newPrimaryRouted, within: .seconds(15))
    Heal()  // RESUME first (the newest reversal of this run), then the full heal
    Expect(.clusterHealthy(members: 3, sync: 1))
}
