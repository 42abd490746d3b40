import Faultline

/// Fill the primary's data volume (a size-limited tmpfs) to 90 %, then to 100 %: record what PostgreSQL and Patroni do; the cluster recovers once the ballast is removed; nothing acknowledged is lost.
/// See docs/faults.md for how the fault is injected and healed, and measured results.
public let fillDisk = Scenario(
    "fill-disk",
    summary: "Fill the primary's data volume (a size-limited tmpfs) to 90 %, then to 100 %: record what PostgreSQL and Patroni do; the cluster recovers once the ballast is removed; nothing acknowledged is lost.",
    tags: [.resources, .nightly]
) {
    Targets(rto: .seconds(120), lostWrites: 0, settle: .seconds(120))
    Load(.ledgerWrites(rate: 100), .replicaReads(rate: 50))
    SteadyState(for: .seconds(10))
    Inject(.fillDisk(.primary, percent: 90))
    // The disk alert (ci profile: PGDATA usage > 50 % for 3 s) fires, and resolves after the heal.
    Expect(.alertFiring(AlertName.diskUsageHigh), within: .seconds(20))
    Hold(for: .seconds(10))
    Inject(.fillDisk(.primary, percent: 100))
    Hold(for: .seconds(20))
    Heal()
    Expect(.clusterHealthy(members: 3, sync: 1), within: .seconds(120))
    Expect(.alertResolved(AlertName.diskUsageHigh), within: .seconds(30))
}
