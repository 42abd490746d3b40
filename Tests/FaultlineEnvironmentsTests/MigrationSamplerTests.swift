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
}
