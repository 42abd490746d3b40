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
    SteadyState(for: .seconds(10))
    Inject(.killNode(.primary))
    Await(.newPrimary, within: .seconds(30))
    Heal()
    Expect(.clusterHealthy(members: 3, sync: 1), within: .seconds(60))
}
