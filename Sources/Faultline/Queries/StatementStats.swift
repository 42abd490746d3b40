import Foundation

/// One row of `pg_stat_statements` (docs/query-optimization.md): a normalised statement with its calls, total and
/// mean execution time and rows.
public struct StatementStat: Codable, Sendable, Equatable {
    public var queryID: String
    public var query: String
    public var calls: Int
    public var totalMs: Double
    public var meanMs: Double
    public var rows: Int

    public init(queryID: String, query: String, calls: Int, totalMs: Double, meanMs: Double, rows: Int) {
        self.queryID = queryID
        self.query = query
        self.calls = calls
        self.totalMs = totalMs
        self.meanMs = meanMs
        self.rows = rows
    }

    /// A row of `QueryStats.sql`'s answer (queryid, query, calls, total ms, mean ms, rows); nil when a number does
    /// not parse.
    public init?(row: [String?]) {
        guard row.count >= 6, let id = row[0], let q = row[1], let calls = row[2].flatMap({ Int($0) }),
              let total = row[3].flatMap({ Double($0) }), let mean = row[4].flatMap({ Double($0) }),
              let rows = row[5].flatMap({ Int($0) }) else { return nil }
        self.init(queryID: id, query: q, calls: calls, totalMs: total, meanMs: mean, rows: rows)
    }
}

/// Ranking `pg_stat_statements`: the top statements by total and by mean time, without the harness's own
/// statements (its reads of the statistics, EXPLAIN, HypoPG, session and transaction control).
public enum QueryStats {
    /// Every statement of one database, as `StatementStat(row:)` reads it. `$1` is the database name.
    public static let sql = """
        SELECT s.queryid::text, s.query, s.calls, s.total_exec_time, s.mean_exec_time, s.rows
          FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
         WHERE d.datname = $1
        """

    /// What ranks: by total time (where the server spends its time) or by mean time (what one call costs).
    public enum Order: String, Codable, Sendable, CaseIterable {
        case total, mean
    }

    /// Whether `query` is the harness's own rather than the application's.
    public static func isHarness(_ query: String) -> Bool {
        let q = query.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        let prefixes = ["explain", "set ", "reset", "show ", "begin", "commit", "rollback", "create extension", "select pg_stat_statements_reset",
                        "analyze", "vacuum", "select hypopg", "select * from hypopg", "create index", "drop index", "alter ", "create ", "drop "]
        if prefixes.contains(where: { q.hasPrefix($0) }) { return true }
        return q.contains("pg_stat_statements") || q.contains("hypopg") || q.contains("pg_catalog.") || q.contains("alembic_version")
            || q.contains("pg_stat_activity") || q.contains("pg_locks") || q.contains("pg_index")
    }

    /// The `count` statements that rank highest by `order` (ties: more calls first, then the text), the harness's
    /// own left out.
    public static func top(_ stats: [StatementStat], by order: Order, count: Int = 3) -> [StatementStat] {
        let key: (StatementStat) -> Double = order == .total ? { $0.totalMs } : { $0.meanMs }
        return Array(stats.filter { !isHarness($0.query) }.sorted {
            key($0) != key($1) ? key($0) > key($1) : $0.calls != $1.calls ? $0.calls > $1.calls : $0.query < $1.query
        }.prefix(count))
    }

    /// Whitespace collapsed, for comparing a statement's text with the SQL that sent it.
    public static func normalised(_ sql: String) -> String {
        sql.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ").trimmingCharacters(in: CharacterSet(charactersIn: ";"))
    }

    /// Whether `sql_stat_statements`' shared_preload_libraries value loads it (a comma-separated list, maybe quoted).
    public static func loaded(sharedPreloadLibraries value: String) -> Bool {
        value.split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " \"'")) }.contains("pg_stat_statements")
    }

    /// The one line a queries report prints when the server does not load pg_stat_statements (exit 2).
    public static func notLoaded(_ value: String) -> String {
        "pg_stat_statements is not loaded (shared_preload_libraries is '\(value)'): add pg_stat_statements to "
            + "shared_preload_libraries (Patroni: postgresql.parameters in patroni.yml, then restart the cluster), then CREATE EXTENSION pg_stat_statements in the database"
    }
}
