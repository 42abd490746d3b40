import Faultline
import FaultlineConcurrency
import FaultlinePG
import Foundation
import Logging
import Synchronization

/// When a run ends.
public enum LoadStop: Sendable, Equatable {
    /// After this long (bounded by `LoadLimits.duration` and `LoadConfig.maxDuration`).
    case after(Duration)
    /// When `stop()` is called or the task is cancelled; never later than `LoadConfig.maxDuration`.
    case stopped
}

/// Why a run could not start.
public enum LoadError: Error, Sendable, CustomStringConvertible, Equatable {
    case invalidConfig(LoadConfigError)
    /// A workload's preparation failed (table missing, endpoint down...).
    case preflight(workload: String, message: String)
    /// `run` was called twice on the same generator.
    case alreadyRun

    public var description: String {
        switch self {
        case .invalidConfig(let e): e.message
        case .preflight(let w, let m): "workload '\(w)' cannot start: \(m)"
        case .alreadyRun: "this LoadGenerator has already run; create a new one"
        }
    }
}

/// A live view of a running load, for progress displays.
public struct LoadSnapshot: Sendable, Equatable {
    /// Time since the common start (zero before it).
    public var elapsed: Duration
    public var ok: Int
    public var errors: [Outcome: Int]
    /// Over the last finished windows (up to 1 s).
    public var okPerSecond: Double
    public var errorsPerSecond: Double
    /// p99 of acknowledged requests so far, all workloads, µs (2-digit precision); nil before the first.
    public var p99Us: Int?
    /// p99 of acknowledged requests over the last finished windows (up to 1 s), their histograms merged, µs; nil
    /// when none completed in them.
    public var recentP99Us: Int?
    public var acked: Int
    public var indeterminate: Int
    public var running: Bool

    public init(elapsed: Duration = .zero, ok: Int = 0, errors: [Outcome: Int] = [:], okPerSecond: Double = 0,
                errorsPerSecond: Double = 0, p99Us: Int? = nil, acked: Int = 0, indeterminate: Int = 0, running: Bool = false) {
        self.elapsed = elapsed
        self.ok = ok
        self.errors = errors
        self.okPerSecond = okPerSecond
        self.errorsPerSecond = errorsPerSecond
        self.p99Us = p99Us
        self.acked = acked
        self.indeterminate = indeterminate
        self.running = running
    }

    public var errorCount: Int { errors.values.reduce(0, +) }

    /// One line: "12.3s  1234 ok/s  errors 5 (connection_lost 3, read_only 2)  p99 4.20 ms  acked 10234  indeterminate 1".
    public var progressLine: String {
        var s = String(format: "%6.1fs  %7.0f ok/s  errors %d", elapsed.seconds, okPerSecond, errorCount)
        if !errors.isEmpty {
            s += " (" + errors.sorted { $0.key < $1.key }.map { "\($0.key.rawValue) \($0.value)" }.joined(separator: ", ") + ")"
        }
        s += "  p99 " + (p99Us.map { String(format: "%.2f ms", Double($0) / 1000) } ?? "-")
        if acked > 0 || indeterminate > 0 { s += "  acked \(acked)  indeterminate \(indeterminate)" }
        return s
    }
}

/// The load generator: workers with their own connections and threads, per-worker HdrHistograms,
/// a 100 ms timeline and the ledger of acknowledged writes.
///
/// ```swift
/// let gen = try LoadGenerator(config: LoadConfig(workloads: [
///     WorkloadConfig(kind: .ledger, conninfo: fixture.pooler, clients: 4, mode: .open(rate: 500, arrival: .uniform))
/// ]), logger: logger)
/// async let obs = gen.run(until: .after(.seconds(30)))   // or .stopped, then gen.stop()
/// print(gen.snapshot().progressLine)
/// let missing = try await LoadGenerator.verifyLedger(acked: try await obs.acked, runID: gen.config.runID, conninfo: fixture.rw)
/// ```
public final class LoadGenerator: Sendable {
    public let config: LoadConfig
    let logger: Logger
    private let shared = Mutex<RunShared?>(nil)
    private let started = Atomic<Bool>(false)
    private let stopRequested = Atomic<Bool>(false)
    /// The orders workload's clients' application versions; nil without an orders workload.
    private let orderVersions: AppVersionBoard?

    /// Validates `config`; throws `LoadConfigError` with a message saying what to change.
    public init(config: LoadConfig, logger: Logger) throws(LoadConfigError) {
        try config.validate()
        self.config = config
        self.logger = logger
        orderVersions = config.workloads.first { $0.kind == .orders }.map { AppVersionBoard(clients: $0.clients, version: $0.appVersion) }
    }

    /// A rolling deploy's step: the first `share` of the orders workload's clients (rounded, at least one; nil: all)
    /// run application `version` from their next request on, the others keep theirs. Before or during a run.
    /// Returns "2 of 4 orders clients on v2, 2 on v1"; throws `WorkloadSwitchError` for an unknown version, a share
    /// outside (0, 1] or no orders workload.
    public func switchWorkload(version: String, share: Double?) throws(WorkloadSwitchError) -> String {
        guard let board = orderVersions else {
            throw WorkloadSwitchError("no orders workload is running: only the orders workload has application versions to switch")
        }
        do {
            let detail = try board.switchTo(AppVersion.parse(version), share: share)
            logger.notice("orders workload switched", metadata: ["version": "\(version)", "clients": "\(detail)"])
            return detail
        } catch {
            throw WorkloadSwitchError("cannot switch the workload: \(error.message)")
        }
    }

    /// Each orders client's current application version, in client order; empty without an orders workload.
    public var orderClientVersions: [AppVersion] { orderVersions?.all ?? [] }

    /// Asks the workers to finish. In-flight requests complete (bounded by the statement timeout).
    public func stop() {
        stopRequested.store(true, ordering: .relaxed)
        shared.withLock { $0 }?.stop.set()
    }

    /// Prepares the workloads, runs them until `stop`, and returns what was observed.
    /// Cancelling the calling task stops the run the same way as `stop()`.
    public func run(until stop: LoadStop) async throws(LoadError) -> LoadObservations {
        guard !started.exchange(true, ordering: .relaxed) else { throw LoadError.alreadyRun }
        let origin = monotonicNs()
        var limit = config.maxDuration
        if case .after(let d) = stop {
            guard LoadLimits.duration.contains(d) else {
                throw .invalidConfig(LoadConfigError("duration \(d) is out of range; use 0.1 s...4 h"))
            }
            limit = min(d, limit)
        }
        let scales = try await preflight()

        let total = config.workloads.reduce(0) { $0 + $1.clients }
        let (metrics, metricsServer) = Self.serveMetrics(config, logger: logger)
        defer { metricsServer?.stop() }
        let run = RunShared(config: config, workers: total, originNs: origin, limitNs: limit.nanoseconds, logger: logger, metrics: metrics,
                            orderVersions: orderVersions)
        shared.withLock { $0 = run }
        if stopRequested.load(ordering: .relaxed) { run.stop.set() }
        var workers: [Worker] = []
        for (w, wc) in config.workloads.enumerated() {
            for i in 0..<wc.clients {
                workers.append(Worker(shared: run, workload: w, indexInWorkload: i, globalIndex: workers.count, scale: scales[w]))
            }
        }
        let jobs = config.effectiveJobs
        logger.info("load starting", metadata: [
            "run_id": "\(config.runID)",
            "workloads": "\(config.workloads.map { "\($0.name)×\($0.clients) \(Self.describe($0.mode)) \($0.queryProtocol) @ \(ConnInfo.masked($0.conninfo))" })",
            "jobs": "\(jobs)", "limit": "\(limit)"])
        await withTaskCancellationHandler {
            await runOnLoops(jobs: jobs, workers.map { w in { loop in await w.run(on: loop) } })
        } onCancel: {
            run.stop.set()
        }
        return collect(run, workers)
    }

    /// A live view; cheap enough to call a few times a second.
    public func snapshot() -> LoadSnapshot {
        guard let run = shared.withLock({ $0 }) else { return LoadSnapshot() }
        var snap = LoadSnapshot()
        if run.gate.startNs != nil { snap.elapsed = .nanoseconds(monotonicNs() - run.originNs) }
        snap.acked = run.ackedTotal.load(ordering: .relaxed)
        snap.indeterminate = run.indeterminateTotal.load(ordering: .relaxed)
        run.timeline.withLock { s in
            var all = WindowAccumulator()
            for c in s.builder.cumulative { all.merge(c) }
            snap.ok = all.ok
            snap.errors = all.errors
            snap.p99Us = TimelineBuilder.p99Us(merging: [all])
            snap.recentP99Us = s.builder.recentP99Us
            let recent = s.builder.recent
            if !recent.isEmpty {
                let seconds = Double(recent.count) * Double(run.math.lengthNs) / 1e9
                snap.okPerSecond = Double(recent.reduce(0) { $0 + $1.ok }) / seconds
                snap.errorsPerSecond = Double(recent.reduce(0) { $0 + $1.errors }) / seconds
            }
            snap.running = s.watermarks.contains { $0 != .max }
        }
        return snap
    }

    /// The ids of every write acknowledged so far in the running load (empty when none runs), in ack order.
    public func acknowledgedSoFar() -> [String] {
        shared.withLock { $0 }?.ackedIDs.withLock { $0 } ?? []
    }

    static func describe(_ m: LoadMode) -> String {
        switch m {
        case .closed: "closed"
        case .open(let r, let a): "open \(r)/s \(a.rawValue)"
        }
    }

    // MARK: - Preflight

    /// Checks every workload can start; returns the pgbench scale per workload (1 when unused).
    private func preflight() async throws(LoadError) -> [Int] {
        let config = self.config
        let result: Result<[Int], LoadError> = await Blocking.run {
            var scales: [Int] = []
            for w in config.workloads {
                do throws(PGError) {
                    let c = try PGConnection(w.conninfo, connectTimeout: config.connectTimeout)
                    defer { c.close() }
                    switch w.kind {
                    case .ledger:
                        try c.exec(LedgerSchema.create, timeout: config.statementTimeout)
                        scales.append(1)
                    case .reads:
                        let r = try c.exec("SELECT to_regclass('faultline_ledger') IS NOT NULL", timeout: config.statementTimeout)
                        guard r.scalar == "t" else {
                            return .failure(.preflight(workload: w.name, message:
                                "table faultline_ledger does not exist on \(ConnInfo.masked(w.conninfo)); run the ledger workload once (it creates the table) or create it with LedgerSchema.create"))
                        }
                        scales.append(1)
                    case .tpcb:
                        let r = try c.exec("SELECT count(*) FROM pgbench_branches", timeout: config.statementTimeout)
                        guard let n = r.scalar.flatMap({ Int($0) }), n > 0 else {
                            return .failure(.preflight(workload: w.name, message: "pgbench_branches is empty; run pgbench -i first"))
                        }
                        scales.append(n)
                    case .custom, .session:
                        scales.append(1)
                    case .orders:
                        let r = try c.exec("SELECT to_regclass('orders') IS NOT NULL AND to_regclass('customers') IS NOT NULL",
                                           timeout: config.statementTimeout)
                        guard r.scalar == "t" else {
                            return .failure(.preflight(workload: w.name, message:
                                "tables orders and customers do not exist on \(ConnInfo.masked(w.conninfo)); create them with scripts/migrate up and fill them with migrations/seed.sql"))
                        }
                        scales.append(1)
                    }
                } catch {
                    var hint = ""
                    if w.kind == .tpcb, error.sqlState == "42P01" { hint = "; create the tables with pgbench -i" }
                    return .failure(.preflight(workload: w.name, message: "\(error) (\(ConnInfo.masked(w.conninfo)))\(hint)"))
                }
            }
            return .success(scales)
        }
        return try result.get()
    }

    // MARK: - Results

    private func collect(_ run: RunShared, _ workers: [Worker]) -> LoadObservations {
        let lastNs = workers.map(\.lastNs).max() ?? 0
        let windows: [TimelineWindow] = run.timeline.withLock { s in
            s.builder.finish(windowCount: run.math.count(coveringNs: min(lastNs, workers.map(\.endNs).max() ?? lastNs)))
            return s.builder.finalized
        }
        var obs = LoadObservations(windows: windows, runID: config.workloads.contains { $0.kind == .ledger } ? config.runID : nil,
                                   durationMs: round3(Double(lastNs) / 1e6))
        obs.loadStartMs = round3(Double(workers.map(\.startNs).min() ?? 0) / 1e6)
        if orderVersions != nil { obs.versions = [:] }
        for (w, wc) in config.workloads.enumerated() {
            let mine = workers.filter { $0.workload == w }
            var hist = makeRunHistogram()
            var totals = WorkloadTotals()
            for worker in mine {
                hist.add(worker.latency)
                for o in Outcome.allCases where worker.counts[o.slot] > 0 {
                    if o == .ok { totals.ok += worker.counts[o.slot] } else { totals.errors[o, default: 0] += worker.counts[o.slot] }
                }
                totals.unsent += worker.unsent
                totals.otherSQLStates.merge(worker.otherSQLStates, uniquingKeysWith: +)
                for (v, t) in worker.versionTotals { obs.versions?[v.rawValue, default: WorkloadTotals()].add(t) }
                obs.acked += worker.acked
                obs.indeterminate += worker.indeterminate
            }
            obs.totals[wc.name] = totals
            if let s = hist.summary() { obs.latency[wc.name] = s }
            var connects = makeRunHistogram()
            for worker in mine { connects.add(worker.connectLatency) }
            if let s = connects.summary() { obs.connectLatency = (obs.connectLatency ?? [:]).merging([wc.name: s]) { $1 } }
            if totals.unsent > 0 {
                obs.notes.append("\(wc.name): \(totals.unsent) requests were due but never sent (the workers fell behind the rate)")
            }
        }
        obs.acked.sort { ($0.ackMs, $0.id) < ($1.ackMs, $1.id) }
        obs.indeterminate.sort { ($0.giveUpMs, $0.id) < ($1.giveUpMs, $1.id) }
        if run.ledgerCapped.load(ordering: .relaxed) {
            obs.notes.append("ledger capped at \(config.maxLedgerEntries) acknowledged writes; ledger workers stopped writing there")
        }
        let late = run.timeline.withLock { $0.builder.lateFlushes }
        if late > 0 { obs.notes.append("internal: \(late) late window flushes were merged into a later window") }
        logger.info("load finished", metadata: [
            "run_id": "\(config.runID)", "acked": "\(obs.acked.count)", "indeterminate": "\(obs.indeterminate.count)",
            "duration_ms": "\(obs.durationMs ?? 0)"])
        return obs
    }

    // MARK: - Ledger verification

    /// Which of `ids` exist in `faultline_ledger` for `runID`, read through `conninfo` (use the primary, after recovery).
    public static func ledgerPresence(ids: [String], runID: String, conninfo: String,
                                      connectTimeout: Duration = .seconds(5),
                                      statementTimeout: Duration = .seconds(30)) async throws(PGError) -> Set<String> {
        let result: Result<Set<String>, PGError> = await Blocking.run {
            do throws(PGError) {
                let c = try PGConnection(conninfo, connectTimeout: connectTimeout)
                defer { c.close() }
                var found = Set<String>()
                var start = 0
                while start < ids.count {
                    let batch = ids[start..<min(start + 5000, ids.count)]
                    start += batch.count
                    let r = try c.exec("SELECT id FROM faultline_ledger WHERE run_id = $1 AND id = ANY($2::text[])",
                                       [runID, pgTextArray(batch)], timeout: statementTimeout)
                    for row in r.rows { if let id = row.first ?? nil { found.insert(id) } }
                }
                return .success(found)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Every ledger row of `runID`, id → its commit time in ms since the Unix epoch (`pg_xact_commit_timestamp(xmin)`,
    /// which needs `track_commit_timestamp = on`; a row whose commit time is unknown is left out, and none at all
    /// is an error saying so).
    public static func ledgerCommits(runID: String, conninfo: String, connectTimeout: Duration = .seconds(5),
                                     statementTimeout: Duration = .seconds(60)) async throws -> [String: Double] {
        let result: Result<([String: Double], Int), PGError> = await Blocking.run {
            do throws(PGError) {
                let c = try PGConnection(conninfo, connectTimeout: connectTimeout)
                defer { c.close() }
                let r = try c.exec("SELECT id, (extract(epoch from pg_xact_commit_timestamp(xmin)) * 1000)::float8 "
                                   + "FROM faultline_ledger WHERE run_id = $1", [runID], timeout: statementTimeout)
                var out: [String: Double] = [:]
                for row in r.rows {
                    if let id = row.first ?? nil, row.count > 1, let t = row[1].flatMap(Double.init) { out[id] = t }
                }
                return .success((out, r.rows.count))
            } catch {
                return .failure(error)
            }
        }
        let (commits, rows) = try result.get()
        if rows > 0, commits.isEmpty {
            throw LedgerCommitTimesUnknown(rows: rows)
        }
        return commits
    }

    /// The acknowledged ids that are missing from the database: every id returned is a lost acknowledged write.
    public static func verifyLedger(acked: [AckedWrite], runID: String, conninfo: String) async throws(PGError) -> [String] {
        let ids = acked.map(\.id)
        let found = try await ledgerPresence(ids: ids, runID: runID, conninfo: conninfo)
        return ids.filter { !found.contains($0) }
    }

    /// `verifyLedger` for a whole observation (uses its `runID`); an empty result when no ledger ran.
    public static func verifyLedger(_ observations: LoadObservations, conninfo: String) async throws(PGError) -> [String] {
        guard let runID = observations.runID, !observations.acked.isEmpty else { return [] }
        return try await verifyLedger(acked: observations.acked, runID: runID, conninfo: conninfo)
    }
}

/// A PostgreSQL text[] literal: every element double-quoted, `"` and `\` escaped.
func pgTextArray<S: Sequence<String>>(_ items: S) -> String {
    "{" + items.map { "\"" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
        .joined(separator: ",") + "}"
}

/// Ledger rows were found but none has a commit time: `track_commit_timestamp` was off when they were written.
public struct LedgerCommitTimesUnknown: Error, CustomStringConvertible {
    public var rows: Int
    public var description: String {
        "\(rows) ledger rows but no commit time for any: set track_commit_timestamp = on (needs a restart)"
    }
}
