import Faultline
import Foundation
import Logging
import Synchronization

/// The scenario runner's `LoadDriver`, backed by `LoadGenerator`: each scenario workload runs open loop
/// at its rate; `run` returns when the calling task is cancelled (or after `LoadConfig.maxDuration`).
/// Beside a write workload it runs the service probe (`ServiceProbe`) on the same endpoint.
public final class LoadGeneratorDriver: LoadDriver {
    /// Where the workloads connect.
    public struct Endpoints: Sendable {
        /// Ledger writes (HAProxy read-write, PgBouncer, or a multi-host string with target_session_attrs=read-write).
        public var writes: String
        /// Replica reads (HAProxy read-only).
        public var reads: String
        /// Where `verifyWrites` reads the ledger back; defaults to `writes`.
        public var verify: String?
        /// The demo application's database, for the orders workload (read-write); defaults to `writes`.
        public var application: String?
        public init(writes: String, reads: String, verify: String? = nil, application: String? = nil) {
            self.writes = writes
            self.reads = reads
            self.verify = verify
            self.application = application
        }
    }

    public let endpoints: Endpoints
    /// Clients (connections) per workload.
    public let clients: Int
    /// The service probe beside a write workload; nil: none.
    public let probe: ServiceProbeConfig?
    /// How every workload's statements go to the server (pgbench `-M`).
    public let queryProtocol: QueryProtocol
    private let logger: Logger
    private let tune: @Sendable (inout LoadConfig) -> Void
    private let current = Mutex<LoadGenerator?>(nil)
    private let lastRunID = Mutex<String?>(nil)

    /// `tune` may adjust timeouts, window length, caps... before each run.
    public init(endpoints: Endpoints, clients: Int = 4, probe: ServiceProbeConfig? = ServiceProbeConfig(),
                queryProtocol: QueryProtocol = .simple, logger: Logger,
                tune: @escaping @Sendable (inout LoadConfig) -> Void = { _ in }) {
        self.endpoints = endpoints
        self.queryProtocol = queryProtocol
        self.clients = clients
        self.probe = probe
        self.logger = logger
        self.tune = tune
    }

    /// How many clients a workload gets: `clients`, or 4× as many when some of them connect per transaction
    /// (a connect with SCRAM costs tens of ms, so fewer would fall behind an open-loop rate of 100/s).
    public func clients(for w: Workload) -> Int {
        w.connect.perTransactionShare > 0 ? min(clients * 4, LoadLimits.clients.upperBound) : clients
    }

    /// The `LoadConfig` for the scenario's workloads (rate 0 workloads are left out).
    public func config(for workloads: [Workload]) -> LoadConfig {
        let wcs = workloads.filter { $0.rate > 0 }.map { w in
            let clients = clients(for: w)
            return switch w {
            case .ledgerWrites(let r, let c):
                WorkloadConfig(kind: .ledger, conninfo: endpoints.writes, clients: clients, mode: .open(rate: Double(r), arrival: .uniform),
                               name: w.name, connect: c)
            case .replicaReads(let r, let c):
                WorkloadConfig(kind: .reads, conninfo: endpoints.reads, clients: clients, mode: .open(rate: Double(r), arrival: .uniform),
                               name: w.name, connect: c)
            case .orders(let r, let v, let c):
                WorkloadConfig(kind: .orders, conninfo: endpoints.application ?? endpoints.writes, clients: clients, mode: .open(rate: Double(r), arrival: .uniform),
                               name: w.name, connect: c, appVersion: v)
            }
        }
        var c = LoadConfig(workloads: wcs.map { var w = $0; w.queryProtocol = queryProtocol; return w })
        tune(&c)
        return c
    }

    public func run(_ workloads: [Workload]) async throws -> LoadObservations {
        let config = config(for: workloads)
        guard !config.workloads.isEmpty else { return LoadObservations() }
        let generator: LoadGenerator
        do { generator = try LoadGenerator(config: config, logger: logger) } catch { throw LoadError.invalidConfig(error) }
        current.withLock { $0 = generator }
        lastRunID.withLock { $0 = config.runID }
        defer { current.withLock { $0 = nil } }
        // The generator takes its origin first thing in `run`: these readings are microseconds before it.
        let originNs = monotonicNs(), originWall = Date()
        let probeStop = StopFlag()
        let sp = probe(for: config).map { ServiceProbe(conninfo: $0.conninfo, runID: config.runID, config: $0.config, logger: logger) }
        let limitNs = config.maxDuration.nanoseconds
        // The probe runs beside the load on a thread of its own (a structured child, joined before returning).
        async let probeReport: ServiceProbeReport? = Self.runProbe(sp, originNs: originNs, limitNs: limitNs, stop: probeStop)
        let result: Result<LoadObservations, LoadError>
        do { result = .success(try await generator.run(until: .stopped)) } catch { result = .failure(error) }
        // The probe stops with the load (within one attempt's deadlines).
        probeStop.set()
        let report = await probeReport
        var obs = try result.get()
        obs.probe = report
        obs.originWallClock = Self.iso8601ms(originWall)
        return obs
    }

    /// Runs the probe on a joined thread of its own until `stop` (nil: no probe).
    static func runProbe(_ sp: ServiceProbe?, originNs: Int64, limitNs: Int64, stop: StopFlag) async -> ServiceProbeReport? {
        guard let sp else { return nil }
        let box = Mutex<ServiceProbeReport?>(nil)
        await runJoined([{ let r = sp.run(originNs: originNs, limitNs: limitNs, stop: stop); box.withLock { $0 = r } }])
        return box.withLock { $0 }
    }

    /// Where and how the service probe runs for `config`: beside its first ledger workload, on the same endpoint,
    /// connecting per attempt when some of that workload's clients connect per transaction (a client like the
    /// workload's, less its backoff). nil: no probe (none configured, or no write workload).
    public func probe(for config: LoadConfig) -> (conninfo: String, config: ServiceProbeConfig)? {
        guard var pc = probe, let writes = config.workloads.first(where: { $0.kind == .ledger }) else { return nil }
        if writes.connect.perTransactionShare > 0 { pc.connectPerAttempt = true }
        return (writes.conninfo, pc)
    }

    /// ISO 8601 UTC with milliseconds: "2026-11-25T10:00:00.123Z".
    static func iso8601ms(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: date)
    }

    public func progress() async -> LoadProgress {
        guard let g = current.withLock({ $0 }) else { return LoadProgress() }
        return g.snapshot().progress
    }

    /// Every write the running load has acknowledged so far (empty when none runs).
    public func acknowledgedSoFar() async -> [String] {
        current.withLock { $0 }?.acknowledgedSoFar() ?? []
    }

    public func verifyWrites(_ ids: [String]) async throws -> [String] {
        guard !ids.isEmpty else { return [] }
        guard let runID = lastRunID.withLock({ $0 }) else { return ids }
        let found = try await LoadGenerator.ledgerPresence(ids: ids, runID: runID, conninfo: endpoints.verify ?? endpoints.writes)
        return ids.filter { !found.contains($0) }
    }

    /// The same look-up on one member (`Environment.memberReadEndpoints`), replica or not: the ledger table is
    /// replicated, so a member that has an id has the write.
    public func verifyWrites(_ ids: [String], on conninfo: String) async throws -> [String] {
        guard !ids.isEmpty else { return [] }
        guard let runID = lastRunID.withLock({ $0 }) else { return ids }
        let found = try await LoadGenerator.ledgerPresence(ids: ids, runID: runID, conninfo: conninfo)
        return ids.filter { !found.contains($0) }
    }

    /// Switches the running orders workload's clients (`LoadGenerator.switchWorkload`); throws `WorkloadSwitchError`
    /// when no load runs, it has no orders workload, or the version or share is unknown.
    public func switchWorkload(version: String, share: Double?) async throws -> String {
        guard let g = current.withLock({ $0 }) else {
            throw WorkloadSwitchError("no load is running: a workload switch needs the orders workload running")
        }
        return try g.switchWorkload(version: version, share: share)
    }

    /// This run's ledger rows on the primary (the verify endpoint), id → server commit time (epoch ms).
    public func ledgerCommits() async throws -> [String: Double] {
        guard let runID = lastRunID.withLock({ $0 }) else { return [:] }
        return try await LoadGenerator.ledgerCommits(runID: runID, conninfo: endpoints.verify ?? endpoints.writes)
    }
}

extension LoadSnapshot {
    /// The runner's progress shape.
    public var progress: LoadProgress {
        LoadProgress(okPerSecond: okPerSecond, errorsPerSecond: errorsPerSecond, totalOk: ok, totalErrors: errorCount,
                     p99Us: p99Us, recentP99Us: recentP99Us, errorsByOutcome: errors)
    }
}
