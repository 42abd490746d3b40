import Faultline

/// Renames `orders.note` to `comment` with a view as the bridge, as a rolling deploy: the view `orders_v2` (expand),
/// half the clients then all of them on v2 (through the view), the check that nothing reads `note` any more
/// (pg_stat_statements over a window), the rename (contract), then v3 on the new name. v1 never breaks.
public let migrateRenameColumn = Scenario(
    "migrate-rename-column",
    summary: "Rename orders.note to comment through the view orders_v2 in a rolling deploy (v1 → v2 half → v2 → rename → v3): 0 app errors, lock waits ≤ 1 s, p99 ≤ 3× steady.",
    tags: [.migration, .nightly]
) {
    Targets(rto: nil, settle: .seconds(60), migration: .underLoad)
    Application(at: "0006", orders: 1_000_000)
    Load(.orders(rate: 100, version: .v1), .ledgerWrites(rate: 20))
    SteadyState(for: .seconds(10))
    Migrate(to: "0008", within: .minutes(2))
    SwitchWorkload(to: "v2", share: 0.5)
    Hold(for: .seconds(5))
    SwitchWorkload(to: "v2")
    Hold(for: .seconds(3))
    Migrate(to: "0009", within: .minutes(2))
    SwitchWorkload(to: "v3")
    Hold(for: .seconds(5))
}
