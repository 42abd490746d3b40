import Faultline
import FaultlinePG
import Foundation

/// What `faultline queries report` asks of the local cluster (docs/query-optimization.md): pg_stat_statements,
/// EXPLAIN, HypoPG and the query-optimisation migrations, all in the application database on the leader.
extension LocalEnvironment {
    /// The revisions that build the indexes the advisor may propose (migrations/versions/safe/0013, 0014), after
    /// `queryBaseRevision`.
    public static let indexMigrations = [
        IndexMigration(revision: "0013", index: IndexCandidate(table: "orders", keys: ["created_at"])),
        IndexMigration(revision: "0014", index: IndexCandidate(table: "orders", keys: ["lower(comment)"])),
    ]
    /// The revision the slow-query workload runs at before any fix.
    public static let queryBaseRevision = "0012"

    /// The server's `shared_preload_libraries`.
    public func sharedPreloadLibraries() async throws -> String {
        try await onPrimary(dbname: "postgres") { c in try c.exec("SHOW shared_preload_libraries").scalar ?? "" }
    }

    /// The highest order id and the number of customers (the workload's parameter ranges).
    public func orderRanges() async throws -> (maxOrderID: Int64, customers: Int64) {
        try await onPrimary(dbname: Self.applicationDatabase) { c in
            let r = try c.exec("SELECT (SELECT coalesce(max(id), 0) FROM orders), (SELECT count(*) FROM customers)").rows.first ?? []
            return (Int64(r.first.flatMap { $0 } ?? "0") ?? 0, Int64(r.count > 1 ? r[1] ?? "0" : "0") ?? 0)
        }
    }

    /// `ANALYZE` of the application's tables: a table seeded moments ago may have no statistics yet, and the plans the
    /// report explains should not depend on whether autovacuum got there first.
    public func analyzeApplication() async throws {
        try await onPrimary(dbname: Self.applicationDatabase) { c in _ = try c.exec("ANALYZE orders, customers", timeout: .seconds(60)) }
    }

    /// Empties pg_stat_statements (the whole server's).
    public func resetStatementStats() async throws {
        try await onPrimary(dbname: Self.applicationDatabase) { c in _ = try c.exec("SELECT pg_stat_statements_reset()") }
    }

    /// pg_stat_statements' rows of the application database.
    public func statementStats() async throws -> [StatementStat] {
        try await onPrimary(dbname: Self.applicationDatabase) { c in
            try c.exec(QueryStats.sql, [Self.applicationDatabase], timeout: .seconds(30)).rows.compactMap(StatementStat.init(row:))
        }
    }

    /// `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)` of `sql` with `params` (as the application sends them), or a plain
    /// `EXPLAIN (FORMAT JSON)` when `analyze` is false.
    public func explain(_ sql: String, _ params: [String?], analyze: Bool = true) async throws -> PlanSummary {
        let text = try await onPrimary(dbname: Self.applicationDatabase) { c in
            try Self.explainText(c, sql, params, analyze: analyze)
        }
        return try PlanSummary.parse(json: text)
    }

    static func explainText(_ c: PGConnection, _ sql: String, _ params: [String?], analyze: Bool) throws -> String {
        let options = analyze ? "ANALYZE, BUFFERS, FORMAT JSON" : "FORMAT JSON"
        return try c.exec("EXPLAIN (\(options)) \(sql)", params, timeout: .seconds(60)).rows.map { $0.first.flatMap { $0 } ?? "" }.joined()
    }

    /// HypoPG's costing of each candidate for `sql`: the plain EXPLAIN cost without it and with it as a hypothetical
    /// index, on one connection (hypothetical indexes live in their session). The extension is created for the check
    /// and dropped after it, so the application's schema is as its migrations made it.
    public func hypoChecks(_ sql: String, _ params: [String?], candidates: [IndexCandidate]) async throws -> [HypoCheck] {
        guard !candidates.isEmpty else { return [] }
        return try await onPrimary(dbname: Self.applicationDatabase) { c in
            _ = try c.exec("CREATE EXTENSION IF NOT EXISTS hypopg")
            defer { _ = try? c.exec("DROP EXTENSION IF EXISTS hypopg") }
            var out: [HypoCheck] = []
            for candidate in candidates {
                _ = try c.exec("SELECT hypopg_reset()")
                let without = try PlanSummary.parse(json: Self.explainText(c, sql, params, analyze: false))
                _ = try c.exec("SELECT indexrelid FROM hypopg_create_index($1)", [candidate.createStatement])
                let with = try PlanSummary.parse(json: Self.explainText(c, sql, params, analyze: false))
                _ = try c.exec("SELECT hypopg_reset()")
                out.append(HypoCheck(index: candidate, costWithout: without.totalCost, costWith: with.totalCost,
                                     used: HypoCheck.usesHypothetical(with)))
            }
            return out
        }
    }

    /// `scripts/migrate up --to revision` (the safe history); seconds it took.
    public func applyMigration(_ revision: String) async throws -> Double {
        let started = ContinuousClock.now
        try await migrate(["up", "--to", revision] + Self.historyFlags(revision))
        return Double((ContinuousClock.now - started).milliseconds) / 1000
    }

    /// The application's revision ("base" when none).
    public func applicationRevisionName() async throws -> String { try await applicationRevision() ?? "base" }
}
