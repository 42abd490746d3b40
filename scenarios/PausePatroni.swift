import Faultline

/// SIGSTOP Patroni on the primary: its leader key expires, a replica takes over while the old PostgreSQL still runs; never two members accepting writes; SIGCONT demotes it.
/// See docs/faults.md for how the fault is injected and healed, and measured results.
public let pausePatroni = Scenario(
    "pause-patroni",
    summary: "SIGSTOP Patroni on the primary: its leader key expires, a replica takes over while the old PostgreSQL still runs; never two members accepting writes; SIGCONT demotes it.",
    tags: [.failover, .process, .nightly]
) {
    Targets(rto: .seconds(60), lostWrites: 0, settle: .seconds(90))
    Load(.ledgerWrites(rate: 100), .replicaReads(rate: 50))
    SteadyState(for: .seconds(10))
    Inject(.pause(.primary, .patroni))
    Await(.newPrimary, within: .seconds(45))
    Hold(for: .seconds(5))
    Heal()
    Expect(.clusterHealthy(members: 3, sync: 1), within: .seconds(90))
}
