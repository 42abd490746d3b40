import Faultline

/// A long query on the primary with an ACCESS EXCLUSIVE lock request queued behind it, for 15 s: the writers pile up (latency, lock waits, errors); nothing lost.
/// See docs/faults.md for how the fault is injected and healed, and measured results.
public let longQuery = Scenario(
    "long-query",
    summary: "A long query on the primary with an ACCESS EXCLUSIVE lock request queued behind it, for 15 s: the writers pile up (latency, lock waits, errors); nothing lost.",
    tags: [.locks, .nightly]
) {
    Targets(rto: .seconds(45), lostWrites: 0, settle: .seconds(60))
    Load(.ledgerWrites(rate: 100), .replicaReads(rate: 50))
    SteadyState(for: .seconds(10))
    Inject(.longQuery(.primary))
    Hold(for: .seconds(15))
    // The long-query alert (ci profile: longest active query > 15 s for 1 s) fires while the query still
    // runs, and resolves after the heal. (With the default profile's 300 s it cannot fire here.)
    Expect(.alertFiring(AlertName.longRunningQuery), within: .seconds(15))
    Heal()
    Expect(.clusterHealthy(members: 3, sync: 1), within: .seconds(60))
    Expect(.alertResolved(AlertName.longRunningQuery), within: .seconds(30))
}
