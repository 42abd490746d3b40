import Faultline

/// SIGKILL Patroni and PostgreSQL on the primary: an unplanned failover.
public let killPrimary = Scenario(
    "kill-primary",
    summary: "SIGKILL Patroni and PostgreSQL on the primary; a replica must take over with no acknowledged write lost.",
    tags: [.failover, .nightly]
) {
    Targets(rto: .seconds(30), lostWrites: 0, settle: .seconds(60),
            p99After: .milliseconds(250), observeAfterHeal: .seconds(5))
    Load(.ledgerWrites(rate: 200), .replicaReads(rate: 200))
    // The steady-state hypothesis: under 1 % errors and a p99 under 500 ms on the healthy cluster, else no kill.
    SteadyState(for: .seconds(10), errorRate: 0.01, p99: .milliseconds(500))
    Inject(.killNode(.primary))
    // FaultlinePrimaryDown fires while no member runs a primary and clears once a replica is promoted,
    // so it is expected before the promotion is awaited (docs/observability.md).
    Expect(.alertFiring(AlertName.primaryDown), within: .seconds(30))
    Await(.newPrimary, within: .seconds(30))
    Heal()
    Expect(.clusterHealthy(members: 3, sync: 1), within: .seconds(60))
    Expect(.alertResolved(AlertName.primaryDown), within: .seconds(30))
}
