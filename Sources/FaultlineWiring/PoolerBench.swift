import Faultline
import FaultlineConcurrency
import FaultlineEnvironments
import FaultlineLoad
import FaultlinePG
import Foundation
import Logging
import Synchronization

/// `faultline bench pooler`, where it meets the environment and the load generator: each cell of a
/// `PoolerBenchPlan` (core) is one `LoadGenerator` run, while a sampler counts the application's server connections
/// on the primary; between cells PgBouncer's idle server connections are closed (`RECONNECT`), so that a direct
/// cell finds the slots of `max_connections` the pool held free again.
public struct PoolerBenchSession: Sendable {
    /// The workloads a pooler bench can run: each writes to the application database through any route.
    public static let workloads: [WorkloadKind] = [.ledger, .session, .tpcb]
    public static var workloadNames: [String] { workloads.map(\.rawValue) }

    public struct Targets: Sendable {
        public var direct: String
        public var transaction: String
        public var session: String
        /// PgBouncer's admin console, for RECONNECT between cells; nil: not drained.
        public var admin: String?

        public func conninfo(_ route: PoolerRoute) -> String {
            switch route {
            case .direct: direct
            case .transaction: transaction
            case .session: session
            }
        }
    }

    /// The routes of a running environment; a one-line `InputError` when it has no PgBouncer in both modes.
    public static func targets(_ driver: any EnvironmentDriver) async throws(InputError) -> Targets {
        let up = (try? await driver.isUp()) ?? false
        guard up, let e = try? driver.endpoints() else {
            throw InputError("environment '\(driver.name)' is not up, so there is no PgBouncer to measure; bring it up with faultline env up --env \(driver.name)")
        }
        guard let tx = e.pooler, let session = e.poolerSession else {
            throw InputError("environment '\(driver.name)' has no PgBouncer in transaction and session mode; the pooler bench needs both (the local environment has them since issue 16: env down, then env up)")
        }
        return Targets(direct: e.readWrite, transaction: tx, session: session, admin: adminConninfo(tx))
    }

    /// The admin console beside a PgBouncer conninfo: the same keywords, `dbname=pgbouncer`.
    static func adminConninfo(_ pooler: String) -> String? {
        let parts = pooler.split(separator: " ")
        guard parts.contains(where: { $0.hasPrefix("dbname=") }) else { return nil }
        return parts.map { $0.hasPrefix("dbname=") ? "dbname=pgbouncer" : String($0) }.joined(separator: " ")
    }

    public let plan: PoolerBenchPlan
    public let targets: Targets
    public var statementTimeout: Duration = .seconds(2)
    public var connectTimeout: Duration = .seconds(3)
    public let logger: Logger

    public init(plan: PoolerBenchPlan, targets: Targets, logger: Logger) {
        (self.plan, self.targets, self.logger) = (plan, targets, logger)
    }

    /// The primary's `max_connections` and the server connections of the application's user now.
    public func serverFacts() async -> (maxConnections: Int?, notes: [String]) {
        let targets = self.targets
        return await Blocking.run {
            var notes: [String] = []
            var maxConn: Int?
            if let c = try? PGConnection(targets.direct, connectTimeout: .seconds(3)) {
                defer { c.close() }
                maxConn = (try? c.exec("SHOW max_connections", timeout: .seconds(3)).scalar).flatMap { $0.flatMap { Int($0) } }
                let reserved = (try? c.exec("SHOW superuser_reserved_connections", timeout: .seconds(3)).scalar) ?? nil
                if let reserved { notes.append("superuser_reserved_connections = \(reserved)") }
            }
            if let a = targets.admin, let c = try? PGConnection(a, connectTimeout: .seconds(3)) {
                defer { c.close() }
                if let r = try? c.exec("SHOW CONFIG", timeout: .seconds(3)) {
                    let wanted = ["default_pool_size", "reserve_pool_size", "max_client_conn", "query_wait_timeout"]
                    let kv = r.rows.compactMap { row -> String? in
                        guard let k = row.first ?? nil, wanted.contains(k), row.count > 1, let v = row[1] else { return nil }
                        return "\(k) = \(v)"
                    }
                    if !kv.isEmpty { notes.append("PgBouncer: " + kv.joined(separator: ", ") + " (a pool per database and user: faultline in transaction mode, faultline_session in session mode)") }
                }
            }
            return (maxConn, notes)
        }
    }

    /// Runs every cell of every round in the plan's order; `progress` hears each cell as it ends. Stops early (with
    /// what it has) when `stop` says so. Throws when a workload cannot start (`LoadError.preflight`).
    public func run(stop: StopRequest = StopRequest(),
                    progress: @Sendable (_ index: Int, _ total: Int, _ cell: PoolerCell, _ run: PoolerCellRun) -> Void = { _, _, _, _ in })
        async throws -> [PoolerCell: [PoolerCellRun]] {
        let schedule = plan.schedule
        var runs: [PoolerCell: [PoolerCellRun]] = [:]
        let monitor = await Blocking.run { [targets] in try? PGConnection(targets.direct, connectTimeout: .seconds(3)) }
        defer { monitor?.close() }
        // What stays when PgBouncer holds no server connection (normally nothing): the level each drain waits for.
        await drain(monitor: monitor, baseline: 0)
        let baseline = await Self.count(monitor) ?? 0
        var position = 0, lastRound = -1
        for (i, item) in schedule.enumerated() {
            if stop.isRequested { break }
            if item.round != lastRound { position = 0; lastRound = item.round }
            await drain(monitor: monitor, baseline: baseline)
            var r = try await measure(item.cell, monitor: monitor)
            (r.round, r.position) = (item.round, position)
            position += 1
            runs[item.cell, default: []].append(r)
            progress(i + 1, schedule.count, item.cell, r)
        }
        await drain(monitor: monitor, baseline: baseline)
        return runs
    }

    /// One cell: the same load unmeasured for the warm-up (PgBouncer's pool filled after the drain), then for the plan's
    /// duration, the server connections sampled every 100 ms meanwhile.
    func measure(_ cell: PoolerCell, monitor: PGConnection?) async throws -> PoolerCellRun {
        if plan.settings.warmupMs > 0 {
            do {
                _ = try await LoadGenerator(config: loadConfig(cell), logger: logger).run(until: .after(.milliseconds(plan.settings.warmupMs)))
            } catch {
                logger.notice("warm-up of \(cell) failed: \(error)")
            }
        }
        let config = try loadConfig(cell)
        let name = cell.workload
        // A refused preflight (PgBouncer's "server login has been failing" right after a storm) is tried again twice,
        // 2 s apart; then the cell is recorded as not started, with the reason.
        var lastFailure = ""
        for attempt in 1...3 {
            do {
                return try await measureOnce(LoadGenerator(config: config, logger: logger), name: name, monitor: monitor)
            } catch let e as LoadError {
                guard case .preflight = e else { throw e }
                lastFailure = e.description
                logger.notice("\(cell): attempt \(attempt) could not start: \(e)")
                if attempt < 3 { try? await Task.sleep(for: .seconds(2)) }
            }
        }
        return PoolerCellRun(round: 0, position: 0, seconds: 0, ok: 0, failure: lastFailure)
    }

    func measureOnce(_ generator: LoadGenerator, name: String, monitor: PGConnection?) async throws -> PoolerCellRun {
        let duration = Duration.milliseconds(plan.settings.cellMs)
        let sampler = Sampler()
        let obs: LoadObservations = try await withThrowingTaskGroup(of: LoadObservations?.self) { group in
            group.addTask {
                defer { sampler.done.store(true, ordering: .relaxed) }
                return try await generator.run(until: .after(duration))
            }
            group.addTask {
                while !sampler.done.load(ordering: .relaxed), !Task.isCancelled {
                    if let n = await Self.count(monitor) { sampler.values.withLock { $0.append(n) } }
                    try? await Task.sleep(for: .milliseconds(100))
                }
                return nil
            }
            var result: LoadObservations?
            for try await r in group where r != nil { result = r }
            return result!
        }
        let t = obs.totals[name] ?? WorkloadTotals()
        let s = sampler.values.withLock { $0 }
        // The first samples fall in the generator's preflight and connects; all count: the slots were taken then too.
        return PoolerCellRun(round: 0, position: 0, seconds: obs.loadSeconds ?? 0, ok: t.ok, errors: t.errors, otherSQLStates: t.otherSQLStates,
                             latency: obs.latency[name], connect: obs.connectLatency?[name],
                             serverConnectionsPeak: s.max(), serverConnectionsMean: s.isEmpty ? nil : Double(s.reduce(0, +)) / Double(s.count))
    }

    /// The server connections counted while a cell runs.
    final class Sampler: Sendable {
        let values = Mutex<[Int]>([])
        let done = Atomic<Bool>(false)
    }

    /// A cell's load: its workload (named after it) closed loop through its route, with its connection policy.
    func loadConfig(_ cell: PoolerCell) throws -> LoadConfig {
        guard let kind = WorkloadKind(rawValue: cell.workload) else { throw InputError("unknown workload \(cell.workload)") }
        var wc = WorkloadConfig(kind: kind, conninfo: targets.conninfo(cell.route), clients: cell.clients, mode: .closed,
                                connect: cell.connect == .persistent ? .persistent : .perTransaction)
        wc.name = cell.workload
        var config = LoadConfig(workloads: [wc])
        config.statementTimeout = statementTimeout
        config.connectTimeout = connectTimeout
        return config
    }

    /// Client backends that came the way the monitor came (through HAProxy, from the client namespace: the bench's
    /// direct clients and PgBouncer's server connections; not the exporters' local ones), but the monitor's own; nil
    /// when it cannot say.
    static func count(_ monitor: PGConnection?) async -> Int? {
        guard let monitor else { return nil }
        return await Blocking.run {
            let sql = "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' "
                + "AND client_addr IS NOT DISTINCT FROM inet_client_addr() AND pid <> pg_backend_pid()"
            return (try? monitor.exec(sql, timeout: .seconds(2)).scalar).flatMap { $0.flatMap { Int($0) } }
        }
    }

    /// Closes PgBouncer's server connections (`RECONNECT`: each once released) and waits, at most 15 s, until the
    /// server connections counted are down to `baseline`.
    func drain(monitor: PGConnection?, baseline: Int) async {
        let admin = targets.admin
        await Blocking.run {
            guard let admin, let c = try? PGConnection(admin, connectTimeout: .seconds(3)) else { return }
            defer { c.close() }
            _ = try? c.exec("RECONNECT", timeout: .seconds(3))
        }
        let clock = ContinuousClock(), deadline = clock.now + .seconds(15)
        while clock.now < deadline {
            guard let n = await Self.count(monitor), n > baseline else { return }
            try? await Task.sleep(for: .milliseconds(100))
        }
        logger.notice("server connections did not drain within 15 s before the next cell")
    }
}
