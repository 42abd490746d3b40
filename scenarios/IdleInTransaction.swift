import Faultline

/// A session idle in a transaction holding SHARE on the ledger table for 15 s: inserts wait behind it; measure the pile-up; nothing lost.
/// See docs/faults.md for how the fault is injected and healed, and measured results.
public let idleInTransaction = Scenario(
    "idle-in-transaction",
    summary: "A session idle in a transaction holding SHARE on the ledger table for 15 s: inserts wait behind it; measure the pile-up; nothing lost.",
    tags: [.locks, .nightly]
) {
    Targets(rto: .seconds(45), lostWrites: 0, settle: .seconds(60))
    Load(.ledgerWrites(rate: 100), .replicaReads(rate: 50))
    SteadyState(for: .seconds(10))
    Inject(.idleInTransaction(.primary))
    Hold(for: .seconds(15))
    Heal()
    Expect(.clusterHealthy(members: 3, sync: 1), within: .seconds(60))
}
