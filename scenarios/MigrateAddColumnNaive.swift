import Faultline

/// Control, must FAIL: migrate-add-column's naive twin. `ADD COLUMN ... NOT NULL DEFAULT (random() * 10)::int`: a
/// volatile default rewrites the whole table under ACCESS EXCLUSIVE, and every application statement waits.
public let migrateAddColumnNaive = Scenario(
    "migrate-add-column-naive",
    summary: "Control, must FAIL: ADD COLUMN with a volatile default rewrites 1 M orders under ACCESS EXCLUSIVE; the application's lock waits and p99 blow the bounds.",
    tags: [.migration, .control]
) {
    Targets(rto: nil, settle: .seconds(60), migration: .underLoad)
    Application(at: "0001", orders: 1_000_000)
    Load(.orders(rate: 100, version: .v1), .ledgerWrites(rate: 20))
    SteadyState(for: .seconds(10))
    Migrate(to: "n0002", within: .minutes(5))
    Hold(for: .seconds(5))
}
