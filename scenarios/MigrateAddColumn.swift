import Faultline

/// Adds a nullable column to the 1-million-row orders table while the application (v1) writes and reads: expand
/// (`ADD COLUMN` with no default, then `SET DEFAULT`), a batched, resumable backfill, then NOT NULL through a
/// `CHECK ... NOT VALID` and `VALIDATE` (migrations/versions/safe/0002-0006). No application error, no lock wait over
/// 1 s, p99 within 3× the steady state, replica lag under 5 s, and the schema at the end is revision 0006's.
public let migrateAddColumn = Scenario(
    "migrate-add-column",
    summary: "Add a nullable column to 1 M orders under load, backfill it in batches, then NOT NULL via CHECK NOT VALID + VALIDATE: 0 app errors, lock waits ≤ 1 s, p99 ≤ 3× steady, lag ≤ 5 s.",
    tags: [.migration, .nightly]
) {
    Targets(rto: nil, settle: .seconds(60), migration: .underLoad)
    Application(at: "0001", orders: 1_000_000)
    Load(.orders(rate: 100, version: .v1), .ledgerWrites(rate: 20))
    SteadyState(for: .seconds(10))
    Migrate(to: "0006", within: .minutes(5))
    Hold(for: .seconds(5))
}
