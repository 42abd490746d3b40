import Faultline

/// Control, must FAIL: migrate-rename-column's naive twin. `RENAME COLUMN note TO comment` in place while v1 runs:
/// every v1 statement that names `note` fails from then on (SQLSTATE 42703).
public let migrateRenameColumnNaive = Scenario(
    "migrate-rename-column-naive",
    summary: "Control, must FAIL: RENAME COLUMN in place while v1 runs; every v1 statement naming note fails (42703).",
    tags: [.migration, .control]
) {
    Targets(rto: nil, settle: .seconds(60), migration: .underLoad)
    Application(at: "n0002", orders: 1_000_000)
    Load(.orders(rate: 100, version: .v1), .ledgerWrites(rate: 20))
    SteadyState(for: .seconds(10))
    Migrate(to: "n0003", within: .minutes(2))
    Hold(for: .seconds(5))
}
