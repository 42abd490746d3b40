import Faultline

/// Hold every server connection of PgBouncer's pool with open transactions for 15 s: the pool alert fires
/// (ci profile: utilisation > 50 % for 3 s) and resolves after the heal. The load goes through HAProxy,
/// so it keeps working; what is checked is that the pool pressure is seen. docs/observability.md.
public let poolExhaustion = Scenario(
    "pool-exhaustion",
    summary: "Hold PgBouncer's whole server pool with open transactions for 15 s: the pool-utilisation alert must fire, and resolve after the heal.",
    tags: [.resources, .nightly]
) {
    Targets(rto: .seconds(45), lostWrites: 0, settle: .seconds(60))
    Load(.ledgerWrites(rate: 100), .replicaReads(rate: 50))
    SteadyState(for: .seconds(10))
    Inject(.exhaustConnections(.pooler))
    Expect(.alertFiring(AlertName.poolUtilizationHigh), within: .seconds(15))
    Hold(for: .seconds(10))
    Heal()
    Expect(.clusterHealthy(members: 3, sync: 1), within: .seconds(60))
    Expect(.alertResolved(AlertName.poolUtilizationHigh), within: .seconds(30))
}
