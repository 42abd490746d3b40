import Foundation

/// Latencies of one statement kind in one workload run: count, p50, p99, mean and the total time (ms).
public struct QueryLatency: Codable, Sendable, Equatable {
    public var count: Int
    public var errors: Int
    public var p50Ms: Double
    public var p99Ms: Double
    public var meanMs: Double
    public var totalMs: Double

    public init(count: Int, errors: Int = 0, p50Ms: Double, p99Ms: Double, meanMs: Double, totalMs: Double) {
        self.count = count
        self.errors = errors
        self.p50Ms = p50Ms
        self.p99Ms = p99Ms
        self.meanMs = meanMs
        self.totalMs = totalMs
    }

    /// From the measured latencies (ms); percentiles by nearest rank. Empty: every figure 0.
    public init(samples: [Double], errors: Int = 0) {
        let s = samples.sorted()
        let total = s.reduce(0, +)
        self.init(count: s.count, errors: errors, p50Ms: Self.percentile(s, 50), p99Ms: Self.percentile(s, 99),
                  meanMs: s.isEmpty ? 0 : total / Double(s.count), totalMs: total)
    }

    /// Nearest-rank percentile of sorted values (0 for none).
    public static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return sorted[min(sorted.count, max(1, rank)) - 1]
    }
}

/// One workload statement kind before and after the fixes.
public struct LatencyComparison: Codable, Sendable, Equatable {
    public var name: String
    /// Whether it writes (its latency after is the index's cost to writes).
    public var write: Bool
    public var before: QueryLatency
    public var after: QueryLatency

    public init(name: String, write: Bool, before: QueryLatency, after: QueryLatency) {
        self.name = name
        self.write = write
        self.before = before
        self.after = after
    }

    /// after / before of the mean (below 1: faster); nil when nothing was measured before.
    public var meanRatio: Double? { before.meanMs > 0 && after.count > 0 ? after.meanMs / before.meanMs : nil }
    public var p99Ratio: Double? { before.p99Ms > 0 && after.count > 0 ? after.p99Ms / before.p99Ms : nil }
}

/// One ranked statement: its statistics, the workload query it is (with the representative parameters the
/// workload gave it), its plans before and after, the proposals and HypoPG's costing of each index.
public struct QueryFinding: Codable, Sendable, Equatable {
    public var statement: StatementStat
    /// The workload's name for it ("time-window"); nil when the statement is not the workload's.
    public var name: String?
    public var parameters: [String]
    public var planBefore: PlanSummary?
    public var proposals: [QueryProposal]
    public var hypo: [HypoCheck]
    /// The SQL run after the fixes (the rewrite's, else the same) and its plan.
    public var sqlAfter: String?
    public var parametersAfter: [String]
    public var planAfter: PlanSummary?
    public var note: String?

    public init(statement: StatementStat, name: String? = nil, parameters: [String] = [], planBefore: PlanSummary? = nil,
                proposals: [QueryProposal] = [], hypo: [HypoCheck] = [], sqlAfter: String? = nil, parametersAfter: [String] = [],
                planAfter: PlanSummary? = nil, note: String? = nil) {
        self.statement = statement
        self.name = name
        self.parameters = parameters
        self.planBefore = planBefore
        self.proposals = proposals
        self.hypo = hypo
        self.sqlAfter = sqlAfter
        self.parametersAfter = parametersAfter
        self.planAfter = planAfter
        self.note = note
    }
}

/// `faultline queries report`'s result (docs/query-optimization.md), rendered as report.md and report.json.
public struct QueryReport: Codable, Sendable, Equatable {
    public struct Run: Codable, Sendable, Equatable {
        public var workload: String
        public var orders: Int
        public var customers: Int
        public var readers: Int
        public var writers: Int
        public var seconds: Double
        public init(workload: String, orders: Int, customers: Int, readers: Int, writers: Int, seconds: Double) {
            self.workload = workload
            self.orders = orders
            self.customers = customers
            self.readers = readers
            self.writers = writers
            self.seconds = seconds
        }
    }

    public var command: String
    public var date: String
    public var commit: String?
    public var run: Run
    public var rankedByTotal: [StatementStat]
    public var rankedByMean: [StatementStat]
    public var rankedByTotalAfter: [StatementStat]
    public var findings: [QueryFinding]
    /// Alembic revisions applied (`scripts/migrate up --to …`), with the index each built.
    public var migrations: [AppliedMigration]
    public var latency: [LatencyComparison]
    /// The writes alone (no readers), before and after the fixes: the indexes' maintenance cost without the relief
    /// from faster reads. Empty when the run had no writers.
    public var writesAlone: [LatencyComparison] = []

    public struct AppliedMigration: Codable, Sendable, Equatable {
        public var revision: String
        public var index: IndexCandidate
        public var seconds: Double
        /// False for a revision applied only because a later one needed it (the history is linear).
        public var proposed: Bool
        public init(revision: String, index: IndexCandidate, seconds: Double, proposed: Bool = true) {
            self.revision = revision
            self.index = index
            self.seconds = seconds
            self.proposed = proposed
        }
    }

    public init(command: String, date: String, commit: String?, run: Run, rankedByTotal: [StatementStat], rankedByMean: [StatementStat],
                rankedByTotalAfter: [StatementStat], findings: [QueryFinding], migrations: [AppliedMigration], latency: [LatencyComparison]) {
        self.command = command
        self.date = date
        self.commit = commit
        self.run = run
        self.rankedByTotal = rankedByTotal
        self.rankedByMean = rankedByMean
        self.rankedByTotalAfter = rankedByTotalAfter
        self.findings = findings
        self.migrations = migrations
        self.latency = latency
    }

    /// Total time of the reading statements before and after (ms), the headline.
    public var readTotalBeforeMs: Double { latency.filter { !$0.write }.map(\.before.totalMs).reduce(0, +) }
    public var readTotalAfterMs: Double { latency.filter { !$0.write }.map(\.after.totalMs).reduce(0, +) }
}

/// The migrations that build the indexes the advisor may propose: a proposal is applied only through the
/// revision whose index it is (the project writes its migrations; the report never writes one).
public struct IndexMigration: Sendable, Equatable {
    public var revision: String
    public var index: IndexCandidate
    public init(revision: String, index: IndexCandidate) {
        self.revision = revision
        self.index = index
    }

    /// The revision whose index matches `candidate` (same table, same keys ignoring case and spaces).
    public static func matching(_ candidate: IndexCandidate, in migrations: [IndexMigration]) -> IndexMigration? {
        func norm(_ k: [String]) -> [String] { k.map { $0.lowercased().filter { !$0.isWhitespace } } }
        return migrations.first { $0.index.table == candidate.table && norm($0.index.keys) == norm(candidate.keys) }
    }
}
