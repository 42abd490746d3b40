import Faultline

/// Adds an index on orders(customer_id, created_at) with `CREATE INDEX CONCURRENTLY` outside a transaction (an
/// INVALID leftover of an earlier failure is dropped first), checks it is valid, then drops the index it supersedes
/// concurrently (migrations/versions/safe/0010-0012). Writes go on throughout.
public let migrateCreateIndex = Scenario(
    "migrate-create-index",
    summary: "CREATE INDEX CONCURRENTLY on 1 M orders under load (an INVALID leftover is dropped first), then drop the superseded index concurrently: 0 app errors, lock waits ≤ 1 s.",
    tags: [.migration, .nightly]
) {
    Targets(rto: nil, settle: .seconds(60), migration: .underLoad)
    Application(at: "0009", orders: 1_000_000)
    Load(.orders(rate: 100, version: .v3), .ledgerWrites(rate: 20))
    SteadyState(for: .seconds(10))
    Migrate(to: "0012", within: .minutes(5))
    Hold(for: .seconds(5))
}
