import Faultline
import FaultlineConcurrency
import Foundation

/// The compose environment as the scenario runner sees it: topology from Patroni's REST API, faults through the
/// engine and inside the containers (ComposeFaults.swift), the heal, and the commands run.
public struct ComposeRunnerEnvironment: Faultline.Environment {
    public let compose: ComposeEnvironment
    /// Size of commands.log when this run began: the run's own commands follow it.
    private let logOffset: UInt64
    /// The local environment's direct probes (a write on every member each ~500 ms: split brain; the primary's
    /// replication), from the host through the compose network; started by the first fault this run applies.
    public let probes: ProbeSampler
    /// Sessions held by session faults (long query, idle in transaction, connections), as local.
    public let sessions = HeldSessions()
    /// The migration a `StartMigration` left running while the next steps go on, as local.
    public let background = BackgroundMigration()

    public init(_ compose: ComposeEnvironment) {
        self.compose = compose
        self.probes = ProbeSampler(compose.shared)
        let attrs = try? FileManager.default.attributesOfItem(atPath: Self.logPath(compose))
        self.logOffset = (attrs?[.size] as? NSNumber)?.uint64Value ?? 0
    }

    static func logPath(_ c: ComposeEnvironment) -> String { "\(c.config.stateDir)/commands.log" }

    public func topology() async throws -> Topology {
        ClusterStatus.topology(from: await compose.status(withReplication: false).members)
    }

    /// Every container running; in every node every process continued (SIGCONT), no FAULTLINE rule, no qdisc, no
    /// ballast left, etcd and Patroni running (it starts PostgreSQL); PgBouncer resumed, maintenance mode off; then a
    /// healthy cluster and a real commit through HAProxy and PgBouncer. A cluster that does not settle although every Patroni runs is
    /// `ClusterDidNotRecover` (a failed verdict); anything else is the harness's.
    public func heal() async throws {
        for s in compose.config.services { try await compose.startContainerIfStopped(s) }
        for n in compose.config.nodeNames {
            try await compose.continueEverything(n)
            try await compose.flushFaultRules(n)
            try await compose.unshapeLink(n, kind: nil)
            try await compose.removeBallast(n)
        }
        try await compose.startEtcdIfDown(compose.config.nodeNames)
        for n in compose.config.nodeNames { try await compose.startPatroniIfDown(n) }
        let shared = compose.shared
        if (try? await shared.resumePooler()) == true { compose.logger.notice("heal: PgBouncer was paused; resumed it") }
        try await shared.healClusterConfig()  // maintenance mode off, synchronous replication on, as local
        do {
            _ = try await compose.waitHealthy(timeout: .seconds(90))
            try await compose.shared.waitEndpoints(timeout: .seconds(20))
        } catch EnvironmentError.unhealthy(let why) {
            var allRunning = true
            for n in compose.config.nodeNames where !(try await compose.patroniRunning(n)) { allRunning = false }
            if allRunning { throw ClusterDidNotRecover(why) }
            throw EnvironmentError.unhealthy(why)
        }
    }

    /// Called once, at the end of a run: stops the probes, and a background migration the run never finished
    /// (SIGTERM: `scripts/migrate` rolls back), as local.
    public func probeReport() async -> ProbeReport? {
        await Blocking.run { background.cancel() }
        return probes.finish()
    }

    /// The demo application before a migration scenario's load: the local code (LocalMigrations.swift) from the host,
    /// through the compose network (HAProxy's read-write port at the proxy's address, the leader directly).
    public func prepareApplication(_ app: ApplicationSpec) async throws -> OperationOutcome {
        try await compose.shared.prepareApplication(app)
    }

    /// Migrations as local, from the host (`scripts/migrate` through HAProxy, the lock and lag sampler on the leader).
    /// The disaster-recovery operations are not built here: a backup, destroy or restore runs pgBackRest and rebuilds
    /// PGDATA inside the node containers, which this driver does not do yet; their scenarios are skipped with that reason.
    public func perform(_ operation: OperationSpec) async throws -> OperationOutcome {
        let shared = compose.shared
        switch operation {
        case .mark: return OperationOutcome()
        case .migrate(let revision): return try await shared.migrateOperation(to: revision)
        case .startMigration(let revision): return try await shared.startBackgroundMigration(revision, background)
        case .finishMigration: return try await shared.finishBackgroundMigration(background)
        case .backup, .destroy, .destroyRepository, .removeArchivedWAL, .restore:
            throw OperationUnsupported("the compose environment does not \(operation.slug): backups, the cluster's destruction and restores "
                                       + "(pgBackRest run and PGDATA rebuilt inside the node containers) are built for local only")
        case .switchWorkload:
            throw OperationUnsupported("the compose environment does not switch workloads (the load generator does)")
        }
    }

    /// The alerts firing now, from the proxy container's Alertmanager (else its Prometheus), as local reads them.
    public func activeAlerts() async throws -> [ActiveAlert] {
        let shared = compose.shared
        return try await Blocking.run { try shared.activeAlerts() }
    }

    /// Each node's PostgreSQL directly (not through HAProxy), as the app user; the password from the passfile.
    public func memberReadEndpoints() async -> [String: String] {
        Dictionary(uniqueKeysWithValues: compose.config.nodeNames.map { ($0, compose.config.local.direct($0)) })
    }

    /// The member HAProxy's read-write port reaches as a primary (the local code, from the host), for `newPrimaryRouted`.
    public func routedPrimary() async throws -> String? { await compose.shared.routedPrimary() }

    /// Each node's free share of its PGDATA volume (the tmpfs fill-disk fills), as local reads it.
    public func diskFree() async throws -> [String: Double] {
        var out: [String: Double] = [:]
        for n in compose.config.nodeNames {
            if let f = try? await compose.volumeUsage(n)?.freeShare { out[n] = f }
        }
        guard !out.isEmpty else { throw ReadingUnsupported("the data volumes' free space (no volume answered)") }
        return out
    }

    public func commandLog() async -> [String] {
        guard let h = FileHandle(forReadingAtPath: Self.logPath(compose)) else { return [] }
        defer { try? h.close() }
        try? h.seek(toOffset: logOffset)
        let data = (try? h.readToEnd()) ?? Data()
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }
}
