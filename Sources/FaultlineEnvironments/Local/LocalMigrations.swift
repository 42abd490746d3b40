import Faultline
import FaultlineConcurrency
import FaultlinePG
import Foundation
import Synchronization

/// The demo application's schema migrations on the local cluster (docs/migrations.md): its database `orders`,
/// prepared before a migration scenario's load, and the `migrate` operation, which runs `scripts/migrate` through
/// HAProxy's read-write port while it samples, every 100 ms on the primary, how long application sessions wait on
/// locks and how far the replicas lag. Afterwards `scripts/migrate verify-schema` compares the schema with a
/// scratch database migrated to the same revision from scratch.
extension LocalEnvironment {
    /// The application's database (owned by the `faultline` role, beside the harness's own `faultline` database).
    public static let applicationDatabase = "orders"

    /// The application database through HAProxy's read-write port, as libpq conninfo (password from the passfile).
    public var applicationConninfo: String { config.conninfo(host: config.clientIP, port: 5000, dbname: Self.applicationDatabase) }

    /// The same as a URL for Alembic (no password: `PGPASSFILE`), as `user`: the owner `faultline` migrates; the
    /// superuser verifies (`verify-schema` creates a scratch database).
    func applicationURL(user: String = "faultline") -> String {
        "postgresql://\(user)@\(config.clientIP):5000/\(Self.applicationDatabase)"
    }

    /// `scripts/migrate` with the environment it needs; argv for `runner.run`.
    func migrateArgv(_ args: [String], user: String = "faultline") -> [String] {
        ["/usr/bin/env", "FAULTLINE_MIGRATE_URL=\(applicationURL(user: user))", "PGPASSFILE=\(config.passfile)",
         "\(config.home)/scripts/migrate"] + args
    }

    /// Which Alembic history a revision belongs to (docs/migrations.md): the naive twins' ids start with "n", the
    /// failing fixtures' with "f"; every other id is the safe history's.
    static func historyName(_ revision: String) -> String {
        revision.hasPrefix("n") ? "naive" : revision.hasPrefix("f") ? "failing" : "safe"
    }
    /// The history as `scripts/migrate` flags.
    static func historyFlags(_ revision: String) -> [String] { ["--history", historyName(revision)] }
    /// A linear history's order: the number in the id ("n0003" → 3); nil for "base" or an id without one.
    static func ordinal(_ revision: String) -> Int? { Int(revision.filter(\.isNumber)) }

    // MARK: prepare

    /// Brings the application to `app` before the load: creates the database and pg_stat_statements in it,
    /// seeds `app.orders` rows at revision 0001 when the table holds fewer (from scratch: down to the base first),
    /// then migrates up or down to `app.revision` in its history, switching histories through 0001, which both share.
    public func prepareApplication(_ app: ApplicationSpec) async throws -> OperationOutcome {
        let started = ContinuousClock.now
        try await ensureApplicationDatabase()
        var current = try await applicationRevision()
        var seeded = 0
        let rows = current == nil ? 0 : try await applicationOrders()
        if rows < app.orders {
            if let c = current { try await migrate(["down", "--to", "base"] + Self.historyFlags(c)) }
            try await migrate(["up", "--to", "0001"])
            try await seedOrders(app.orders)
            seeded = app.orders
            current = "0001"
        }
        if let c = current, Self.historyName(c) != Self.historyName(app.revision), c != "0001" {
            try await migrate(["down", "--to", "0001"] + Self.historyFlags(c))
            current = "0001"
        }
        let target = app.revision
        if current != target {
            let behind = current.flatMap(Self.ordinal).map { ($0, Self.ordinal(target) ?? 0) }.map { $0.0 > $0.1 } ?? false
            try await migrate([behind ? "down" : "up", "--to", target] + Self.historyFlags(target))
        }
        // The unused-column check reads pg_stat_statements: what an earlier run did must not count.
        try await onPrimary(dbname: Self.applicationDatabase) { c in _ = try c.exec("SELECT pg_stat_statements_reset()") }
        let at = try await applicationRevision() ?? "base"
        guard at == target else { throw EnvironmentError.unhealthy("preparing the application: it is at revision \(at), not \(target)") }
        let ms = Int((ContinuousClock.now - started).milliseconds)
        let detail = "orders application at \(at)" + (seeded > 0 ? ", seeded \(seeded) orders" : "") + " in \(DurationText.human(ms: ms))"
        return OperationOutcome(detail, facts: ["revision": at, "seeded-orders": String(seeded), "prepare-ms": String(ms)])
    }

    /// `CREATE DATABASE orders OWNER faultline` and the pg_stat_statements extension in it, unless they exist.
    func ensureApplicationDatabase() async throws {
        let db = Self.applicationDatabase
        try await onPrimary(dbname: "postgres") { c in
            if try c.exec("SELECT 1 FROM pg_database WHERE datname = $1", [db]).rows.isEmpty {
                _ = try c.exec("CREATE DATABASE \(db) OWNER faultline", timeout: .seconds(60))
            }
        }
        try await onPrimary(dbname: db) { c in _ = try c.exec("CREATE EXTENSION IF NOT EXISTS pg_stat_statements") }
    }

    /// The application database's Alembic revision; nil when it has none (never migrated, or at the base).
    func applicationRevision() async throws -> String? {
        try await onPrimary(dbname: Self.applicationDatabase) { c in
            guard try c.exec("SELECT to_regclass('public.alembic_version') IS NOT NULL").rows.first?.first == "t" else { return nil }
            return try c.exec("SELECT version_num FROM alembic_version").rows.first?.first ?? nil
        }
    }

    func applicationOrders() async throws -> Int {
        try await onPrimary(dbname: Self.applicationDatabase) { c in
            guard try c.exec("SELECT to_regclass('public.orders') IS NOT NULL").rows.first?.first == "t" else { return 0 }
            let n = try c.exec("SELECT count(*) FROM orders", timeout: .seconds(60)).rows.first?.first ?? nil
            return n.flatMap { Int($0) } ?? 0
        }
    }

    /// `migrations/seed.sql` through psql (10,000 customers, `orders` orders), at revision 0001.
    func seedOrders(_ orders: Int) async throws {
        try await runner.run(["/usr/bin/env", "PGPASSFILE=\(config.passfile)", "psql", "-X", "-q", applicationConninfo,
                              "-v", "orders=\(orders)", "-f", "\(config.home)/migrations/seed.sql"], timeout: .minutes(10))
        try await onPrimary(dbname: Self.applicationDatabase) { c in _ = try c.exec("ANALYZE customers, orders", timeout: .seconds(120)) }
    }

    /// `scripts/migrate ARGS`; throws with its last line of output when it fails.
    @discardableResult
    func migrate(_ args: [String], timeout: Duration = .minutes(30)) async throws -> CommandResult {
        try await runner.run(migrateArgv(args), timeout: timeout)
    }

    /// Runs `body` on a superuser connection straight to the current leader, in `dbname`.
    func onPrimary<T: Sendable>(dbname: String, _ body: @escaping @Sendable (PGConnection) throws -> T) async throws -> T {
        let dsn = config.direct(await leaderOrFirst(), user: "postgres", dbname: dbname)
        return try await Blocking.run { () throws -> T in
            let c = try PGConnection(dsn, connectTimeout: .seconds(3))
            defer { c.close() }
            return try body(c)
        }
    }

    // MARK: migrate

    /// The `migrate` operation: the background migration (`BackgroundMigration`: `scripts/migrate up --to REVISION`
    /// with the sampler watching the primary), waited for at once; a cancelled wait stops it (SIGTERM: it rolls back).
    /// A failed migration (rolled back by `scripts/migrate`) throws, with its last line.
    public func migrateOperation(to revision: String) async throws -> OperationOutcome {
        let job = BackgroundMigration()
        _ = try job.start(revision, on: self)
        return try await withTaskCancellationHandler {
            try await finishBackgroundMigration(job)
        } onCancel: {
            job.terminate()
        }
    }

    /// What a finished migration to `revision` reports: the samplers' `facts`, the revision reached and whether its
    /// schema matches a fresh migration to it (`verify-schema`); a failed one throws `MigrationFailed` with the facts.
    func migrationOutcome(_ revision: String, result: Result<Void, any Error>, facts sampled: [String: String],
                          ms: Int) async throws -> OperationOutcome {
        let flags = Self.historyFlags(revision)
        var facts = sampled
        facts[MigrationFacts.history] = Self.historyName(revision)
        facts["migrate-ms"] = String(ms)
        if case .failure(let e) = result {
            throw MigrationFailed(reason: describe(e), facts: facts)
        }
        let at = (try? await applicationRevision()) ?? nil
        facts[MigrationFacts.revision] = at ?? "base"
        let verify = try await runner.run(migrateArgv(["verify-schema"] + flags, user: "postgres"), check: false, timeout: .minutes(5))
        let line = verify.stdout.split(separator: "\n").first.map(String.init) ?? ""
        if verify.status == 0 {
            facts[MigrationFacts.schemaMatches] = "yes"
        } else {
            let why = line.isEmpty ? CommandRunner.lastLine(verify.stderr) : line
            facts[MigrationFacts.schemaMatches] = "no: " + Secrets.mask(why)
        }
        let lock = facts[MigrationFacts.lockWaitMaxMs] ?? "?"
        let lag = facts[MigrationFacts.replicaLagMaxMs] ?? "?"
        return OperationOutcome("at \(at ?? "base") in \(DurationText.human(ms: ms)); longest application lock wait \(lock) ms, replica lag ≤ \(lag) ms",
                                facts: facts)
    }
}

/// A migration that failed (and was rolled back by `scripts/migrate`), with what the samplers saw meanwhile.
public struct MigrationFailed: Error, CustomStringConvertible, Sendable {
    public var reason: String
    public var facts: [String: String]
    /// The reason, then the longest application lock wait and replica lag seen before it failed.
    public var description: String {
        reason + "; longest application lock wait \(facts[MigrationFacts.lockWaitMaxMs] ?? "?") ms"
            + ", replica lag ≤ \(facts[MigrationFacts.replicaLagMaxMs] ?? "?") ms"
    }
}

/// Samples the primary every 100 ms while a migration runs: the longest lock wait of an application session
/// (`pg_locks.waitstart`, PostgreSQL 14+) with its statement and its blocker's, and the replicas' replay lag
/// (`pg_stat_replication`). A sample that fails (the primary changing hands) is skipped and counted. Driven by
/// `BackgroundMigration`'s thread.
final class MigrationSampler: Sendable {
    let application: String
    private struct State {
        var samples = 0, failed = 0, lockMs = 0, lagMs = 0, lagBytes: Int64 = 0
        var query: String?, blocker: String?
        /// The longest wait's session and start ("pid@waitstart"): samples of one wait share it.
        var wait: String?
    }
    private let state = Mutex(State())

    init(application: String) { self.application = application }

    static let lockSQL = """
        SELECT (extract(epoch FROM clock_timestamp() - l.waitstart) * 1000)::bigint,
               left(a.query, 200),
               (SELECT left(string_agg(b.query, ' | '), 200) FROM pg_stat_activity b WHERE b.pid = ANY (pg_blocking_pids(l.pid))),
               l.pid::text || '@' || l.waitstart::text
          FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE NOT l.granted AND l.waitstart IS NOT NULL AND a.application_name = $1
         ORDER BY l.waitstart LIMIT 1
        """
    static let lagSQL = """
        SELECT coalesce(max((extract(epoch FROM replay_lag) * 1000)::bigint), 0),
               coalesce(max(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn))::bigint, 0)
          FROM pg_stat_replication
        """

    /// One sample on `c` (blocking, about a millisecond); false when it failed (the connection is then of no use).
    func sample(on c: PGConnection) -> Bool {
        let sample = try? (c.exec(Self.lockSQL, [application], timeout: .seconds(1)).rows.first,
                           c.exec(Self.lagSQL, timeout: .seconds(1)).rows.first)
        record(sample)
        return sample != nil
    }

    func record(_ sample: ([String?]?, [String?]?)?) {
        state.withLock { s in
            s.samples += 1
            guard let (lock, lag) = sample else { s.failed += 1; return }
            if let lock, let ms = lock.first.flatMap({ $0 }).flatMap(Int.init), ms > s.lockMs {
                s.lockMs = ms
                // The longest wait is, by construction, sampled last, when its blocker may just have committed
                // (pg_blocking_pids empty, CI 2026-12-07): a sample without a statement or blocker keeps the last seen.
                s.query = (lock.count > 1 ? lock[1] : nil) ?? s.query
                // Likewise a blocker caught ending its transaction (its statement "COMMIT", often waiting for the
                // synchronous standby while it still holds the lock: CI 2026-12-08 read "blocked by: COMMIT" for a
                // plain CREATE INDEX) keeps the statement seen blocking earlier in the same wait.
                let wait = lock.count > 3 ? lock[3] : nil
                let sameWait = wait != nil && wait == s.wait
                s.wait = wait
                if let b = lock.count > 2 ? lock[2] : nil, !(sameWait && s.blocker != nil && Self.endsTransaction(b)) {
                    s.blocker = b
                }
            }
            if let lag {
                if let ms = lag.first.flatMap({ $0 }).flatMap(Int.init) { s.lagMs = max(s.lagMs, ms) }
                if let b = (lag.count > 1 ? lag[1] : nil).flatMap(Int64.init) { s.lagBytes = max(s.lagBytes, b) }
            }
        }
    }

    /// Whether `statement` only ends a transaction (COMMIT, END, ROLLBACK, ABORT): it says nothing of what took the lock.
    static func endsTransaction(_ statement: String) -> Bool {
        let first = statement.trimmingCharacters(in: .whitespacesAndNewlines).prefix { $0.isLetter }.uppercased()
        return ["COMMIT", "END", "ROLLBACK", "ABORT"].contains(first)
    }

    /// What was seen, as the `MigrationFacts` names.
    var facts: [String: String] {
        state.withLock { s in
            var f = [MigrationFacts.lockWaitMaxMs: String(s.lockMs), MigrationFacts.lockWaitSamples: String(s.samples),
                     MigrationFacts.replicaLagMaxMs: String(s.lagMs), MigrationFacts.replicaLagMaxBytes: String(s.lagBytes),
                     "samples-failed": String(s.failed)]
            if let q = s.query { f[MigrationFacts.lockWaitQuery] = Secrets.mask(q) }
            if let b = s.blocker { f[MigrationFacts.lockWaitBlocker] = Secrets.mask(b) }
            return f
        }
    }
}
