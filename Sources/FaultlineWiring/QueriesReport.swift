import Faultline
import FaultlineEnvironments
import FaultlineLoad
import Foundation

/// Bad input to `faultline queries report` (exit 2, nothing changed): an unknown workload, pg_stat_statements not loaded.
public struct QueriesInputError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ d: String) { description = d }
}

/// One `faultline queries report` (docs/query-optimization.md): the slow-query workload before, pg_stat_statements
/// ranked, EXPLAIN (ANALYZE, BUFFERS) with the workload's representative parameters, proposals (HypoPG costs each
/// index first), the matching migrations applied and the rewrites adopted, the same workload after.
public struct QueriesReportSession: Sendable {
    public var workload: SlowQueryWorkload
    public var orders: Int
    public var readers: Int
    public var writers: Int
    public var seconds: Double
    public var command: String
    public var commit: String?

    /// Checks the workload's name before anything is touched.
    public init(workload name: String, orders: Int, readers: Int, writers: Int, seconds: Double, command: String, commit: String?) throws(QueriesInputError) {
        guard let w = SlowQueryWorkload.named(name) else {
            throw QueriesInputError("unknown workload '\(name)': expected \(SlowQueryWorkload.names.joined(separator: ", "))")
        }
        workload = w
        self.orders = orders
        self.readers = readers
        self.writers = writers
        self.seconds = seconds
        self.command = command
        self.commit = commit
    }

    /// Refuses (QueriesInputError, nothing changed) when the server does not load pg_stat_statements.
    public func preflight(_ env: LocalEnvironment) async throws {
        let libraries = try await env.sharedPreloadLibraries()
        guard QueryStats.loaded(sharedPreloadLibraries: libraries) else { throw QueriesInputError(QueryStats.notLoaded(libraries)) }
    }

    public func run(_ env: LocalEnvironment, progress: @Sendable (String) -> Void = { _ in }) async throws -> QueryReport {
        try await preflight(env)
        let date = Date().formatted(.iso8601)
        let prepared = try await env.prepareApplication(ApplicationSpec(revision: LocalEnvironment.queryBaseRevision, orders: orders))
        progress(prepared.detail)
        try await env.analyzeApplication()

        // Before.
        let context = try await self.context(env)
        try await env.resetStatementStats()
        progress("before: \(readers) reader(s) and \(writers) writer(s) for \(seconds) s")
        let before = await workload.run(conninfo: env.applicationConninfo, readers: readers, writers: writers, seconds: seconds,
                                        context: context, rewrites: [])
        let stats = try await env.statementStats()
        // The writes alone, so their cost after the indexes is not hidden by the relief from faster reads.
        let alone = min(seconds, 10)
        var writesBefore = SlowQueryWorkload.Measured()
        if writers > 0 {
            progress("before: the writes alone for \(alone) s")
            writesBefore = await workload.run(conninfo: env.applicationConninfo, readers: 0, writers: writers, seconds: alone,
                                              context: context, rewrites: [])
        }
        let byTotal = QueryStats.top(stats, by: .total), byMean = QueryStats.top(stats, by: .mean)

        // Explain, propose, cost.
        var findings: [QueryFinding] = []
        for s in byTotal + byMean where !findings.contains(where: { $0.statement.queryID == s.queryID }) {
            findings.append(try await finding(s, env: env, context: context))
        }

        // Fix: the migrations of the indexes HypoPG found worth building, the rewrites.
        let migrations = try await applyIndexes(findings: &findings, env: env, progress: progress)
        let rewrites = Set(findings.filter { $0.proposals.contains { $0.kind == .rewrite } }.compactMap(\.name)
            .filter { workload.query($0)?.rewrittenSQL != nil })

        // After.
        let contextAfter = try await self.context(env)
        var writesAfter = SlowQueryWorkload.Measured()
        if writers > 0 {
            progress("after: the same \(writesBefore.requests.values.reduce(0, +)) writes alone")
            writesAfter = await workload.run(conninfo: env.applicationConninfo, readers: 0, writers: writers, seconds: 2 * alone,
                                             context: contextAfter, rewrites: [], requests: writesBefore.requests)
            if writesAfter.timedOut { progress("after: the writes alone stopped at \(2 * alone) s before every client had replayed its writes") }
        }
        try await env.resetStatementStats()
        progress("after: the same \(before.requests.values.reduce(0, +)) requests" + (rewrites.isEmpty ? "" : ", rewritten: \(rewrites.sorted().joined(separator: ", "))"))
        let after = await workload.run(conninfo: env.applicationConninfo, readers: readers, writers: writers, seconds: 2 * seconds,
                                       context: contextAfter, rewrites: rewrites, requests: before.requests)
        if after.timedOut { progress("after: stopped at \(2 * seconds) s before every client had replayed its requests") }
        let byTotalAfter = QueryStats.top(try await env.statementStats(), by: .total)
        for i in findings.indices {
            guard let name = findings[i].name, let q = workload.query(name) else { continue }
            let rewritten = rewrites.contains(name)
            let sql = rewritten ? q.rewrittenSQL! : q.sql
            let params = workload.representative(q, context: contextAfter, rewritten: rewritten)
            findings[i].sqlAfter = sql
            findings[i].parametersAfter = params.map { $0 ?? "NULL" }
            findings[i].planAfter = try await env.explain(sql, params)
        }

        let latency = workload.queries.map { q in
            LatencyComparison(name: q.name, write: q.write,
                              before: QueryLatency(samples: before.samples[q.name] ?? [], errors: before.errors[q.name] ?? 0),
                              after: QueryLatency(samples: after.samples[q.name] ?? [], errors: after.errors[q.name] ?? 0))
        }
        let writesAlone = writers == 0 ? [] : workload.queries.filter(\.write).map { q in
            LatencyComparison(name: q.name, write: true,
                              before: QueryLatency(samples: writesBefore.samples[q.name] ?? [], errors: writesBefore.errors[q.name] ?? 0),
                              after: QueryLatency(samples: writesAfter.samples[q.name] ?? [], errors: writesAfter.errors[q.name] ?? 0))
        }
        if let e = before.firstError ?? after.firstError { progress("workload error (counted): \(Secrets.mask(e))") }
        var report = QueryReport(command: command, date: date, commit: commit,
                           run: .init(workload: workload.name, orders: Int(context.maxOrderID), customers: Int(context.customers),
                                      readers: readers, writers: writers, seconds: seconds),
                           rankedByTotal: byTotal, rankedByMean: byMean, rankedByTotalAfter: byTotalAfter, findings: findings,
                           migrations: migrations, latency: latency)
        report.writesAlone = writesAlone
        return report
    }

    func context(_ env: LocalEnvironment) async throws -> SlowQueryWorkload.Context {
        let r = try await env.orderRanges()
        return SlowQueryWorkload.Context(maxOrderID: r.maxOrderID, customers: r.customers, now: Date())
    }

    func finding(_ s: StatementStat, env: LocalEnvironment, context: SlowQueryWorkload.Context) async throws -> QueryFinding {
        guard let q = workload.query(matching: s.query) else {
            return QueryFinding(statement: s, note: "not a statement of the workload: no representative parameters, not explained")
        }
        let params = workload.representative(q, context: context)
        let plan = try await env.explain(q.sql, params)
        let proposals = QueryAdvisor.proposals(query: q.sql, plan: plan)
        let hypo = try await env.hypoChecks(q.sql, params, candidates: proposals.compactMap(\.index))
        return QueryFinding(statement: s, name: q.name, parameters: params.map { $0 ?? "NULL" }, planBefore: plan, proposals: proposals, hypo: hypo)
    }

    /// Applies, in history order, every index migration up to the last one a worthwhile proposal needs; notes a
    /// proposal no migration builds.
    func applyIndexes(findings: inout [QueryFinding], env: LocalEnvironment, progress: @Sendable (String) -> Void) async throws
        -> [QueryReport.AppliedMigration] {
        var wanted: [IndexMigration] = []
        for i in findings.indices {
            for check in findings[i].hypo where check.worthBuilding {
                if let m = IndexMigration.matching(check.index, in: LocalEnvironment.indexMigrations) {
                    if !wanted.contains(m) { wanted.append(m) }
                } else {
                    findings[i].note = "no migration builds \(check.index.definition): write one (CREATE INDEX CONCURRENTLY, as 0013 does)"
                }
            }
        }
        let all = LocalEnvironment.indexMigrations
        guard let last = all.lastIndex(where: { wanted.contains($0) }) else { return [] }
        var applied: [QueryReport.AppliedMigration] = []
        for m in all[...last] {
            progress("migrate up --to \(m.revision): CREATE INDEX CONCURRENTLY \(m.index.name) \(m.index.definition)")
            let seconds = try await env.applyMigration(m.revision)
            applied.append(.init(revision: m.revision, index: m.index, seconds: seconds, proposed: wanted.contains(m)))
        }
        return applied
    }
}
