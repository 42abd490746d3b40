import Faultline

/// Control, must FAIL: migrate-create-index's naive twin. A plain `CREATE INDEX` holds a SHARE lock on the table for
/// the whole build: every application write waits for it.
public let migrateCreateIndexNaive = Scenario(
    "migrate-create-index-naive",
    summary: "Control, must FAIL: plain CREATE INDEX on 1 M orders holds SHARE for the whole build; the application's writes wait.",
    tags: [.migration, .control]
) {
    Targets(rto: nil, settle: .seconds(60), migration: .underLoad)
    Application(at: "n0003", orders: 1_000_000)
    Load(.orders(rate: 100, version: .v3), .ledgerWrites(rate: 20))
    SteadyState(for: .seconds(10))
    Migrate(to: "n0004", within: .minutes(5))
    Hold(for: .seconds(5))
}
