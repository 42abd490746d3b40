import Faultline

/// A planned switchover to the synchronous standby: the gentlest leader change there is.
public let switchover = Scenario(
    "switchover",
    summary: "Planned Patroni switchover from the primary to the sync standby; short write pause, nothing lost.",
    tags: [.planned, .nightly, .smoke]
) {
    Targets(rto: .seconds(10), lostWrites: 0, settle: .seconds(60), errorBudgetAfter: 0.001,
            p99After: .milliseconds(250), observeAfterHeal: .seconds(5))
    Load(.ledgerWrites(rate: 200), .replicaReads(rate: 200))
    SteadyState(for: .seconds(10))
    Inject(.switchover(to: .syncStandby))
    Await(.newPrimary, within: .seconds(10))
    Heal()
    Expect(.clusterHealthy(members: 3, sync: 1))
}
