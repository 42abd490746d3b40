import Faultline

/// SIGSTOP PostgreSQL (postmaster and backends) on the primary for 30 s, then SIGCONT: what Patroni does, no split brain, nothing lost.
/// See docs/faults.md for how the fault is injected and healed, and measured results.
public let pausePostgres = Scenario(
    "pause-postgres",
    summary: "SIGSTOP PostgreSQL (postmaster and backends) on the primary for 30 s, then SIGCONT: what Patroni does, no split brain, nothing lost.",
    tags: [.process, .nightly]
) {
    Targets(rto: .seconds(90), lostWrites: 0, settle: .seconds(90))
    Load(.ledgerWrites(rate: 100), .replicaReads(rate: 50))
    SteadyState(for: .seconds(10))
    Inject(.pause(.primary, .postgres))
    Hold(for: .seconds(30))
    Heal()
    Expect(.clusterHealthy(members: 3, sync: 1), within: .seconds(90))
}
