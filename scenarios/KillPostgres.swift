import Faultline

/// SIGKILL only PostgreSQL on the primary; Patroni stays up and decides between a restart and a failover.
public let killPostgres = Scenario(
    "kill-postgres",
    summary: "SIGKILL only PostgreSQL on the primary (Patroni stays up); writes must come back with none lost.",
    tags: [.failover, .nightly, .smoke]
) {
    Targets(rto: .seconds(30), lostWrites: 0, settle: .seconds(60),
            p99After: .milliseconds(250), observeAfterHeal: .seconds(5))
    Load(.ledgerWrites(rate: 200), .replicaReads(rate: 200))
    SteadyState(for: .seconds(10))
    Inject(.killPostgres(.primary))
    Await(.primaryRecovered, within: .seconds(30))
    Heal()
    Expect(.clusterHealthy(members: 3, sync: 1), within: .seconds(60))
}
