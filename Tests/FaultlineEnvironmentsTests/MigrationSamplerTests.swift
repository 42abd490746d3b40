import Faultline
import Testing
@testable import FaultlineEnvironments

/// The migration sampler's record of the longest lock wait (no database: samples as the lock query returns them).
@Suite struct MigrationSamplerTests {
    @Test func theLongestWaitKeepsTheBlockerSeenBeforeItsLastSample() {
        let s = MigrationSampler(application: "faultline-app")
        let insert = "INSERT INTO orders (customer_id, status, amount_cents, note) VALUES ($1, 'new', $2, $3) RETURNING id"
        let alter = "ALTER TABLE orders ADD COLUMN priority int NOT NULL DEFAULT (random() * 10)::int"
        s.record(([String?](["900", insert, alter]), ["0", "0"]))
        // The last sample of the wait: the ALTER has just committed, pg_blocking_pids is empty.
        s.record(([String?](["3600", insert, nil]), ["0", "0"]))
        let f = s.facts
        #expect(f[MigrationFacts.lockWaitMaxMs] == "3600")
        #expect(f[MigrationFacts.lockWaitQuery] == insert)
        #expect(f[MigrationFacts.lockWaitBlocker] == alter)
        // A longer wait with its own blocker replaces both.
        s.record(([String?](["4000", "UPDATE orders SET status = $1 WHERE id = $2", "CREATE INDEX orders_x ON orders (note)"]), nil))
        #expect(s.facts[MigrationFacts.lockWaitBlocker] == "CREATE INDEX orders_x ON orders (note)")
        #expect(s.facts[MigrationFacts.lockWaitMaxMs] == "4000")
    }

    @Test func aBlockerCaughtCommittingKeepsTheStatementThatBlockedEarlierInTheSameWait() {
        let s = MigrationSampler(application: "faultline-app")
        let update = "UPDATE orders SET status = 'paid' WHERE id = '91746'"
        let index = "CREATE INDEX orders_customer_created_idx ON orders (customer_id, created_at)"
        s.record(([String?](["300", update, index, "4711@2026-12-08 01:09:00.1+00"]), nil))
        // The same wait, its blocker now in COMMIT (waiting for the synchronous standby, the lock still held).
        s.record(([String?](["2800", update, "COMMIT", "4711@2026-12-08 01:09:00.1+00"]), nil))
        #expect(s.facts[MigrationFacts.lockWaitMaxMs] == "2800")
        #expect(s.facts[MigrationFacts.lockWaitBlocker] == index)
        // Another, longer wait whose blocker is only ever seen committing: that is all there is to say of it.
        s.record(([String?](["3100", update, "commit", "4712@2026-12-08 01:09:05.2+00"]), nil))
        #expect(s.facts[MigrationFacts.lockWaitBlocker] == "commit")
        // And a statement that is not a transaction's end replaces the blocker within one wait.
        s.record(([String?](["3300", update, "ALTER TABLE orders ADD COLUMN x int", "4712@2026-12-08 01:09:05.2+00"]), nil))
        #expect(s.facts[MigrationFacts.lockWaitBlocker] == "ALTER TABLE orders ADD COLUMN x int")
        #expect(MigrationSampler.endsTransaction(" END;") && MigrationSampler.endsTransaction("ROLLBACK")
                && !MigrationSampler.endsTransaction("COMMENT ON TABLE orders IS 'x'") && !MigrationSampler.endsTransaction("ENDLESS"))
    }
}
