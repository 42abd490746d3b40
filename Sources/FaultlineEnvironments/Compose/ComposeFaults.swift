import Faultline
import Foundation

/// Every fault action and reversal on the compose environment: one exhaustive switch each, so a new fault kind does
/// not compile until compose says how it does it, or that it cannot (`FaultUnsupported`: the verdicts are skipped).
extension ComposeRunnerEnvironment {
    public func apply(_ action: FaultAction) async throws {
        probes.start()
        switch action {
        case .killNode(let m):
            try await compose.killNode(m)
        case .killPostgres(let m):
            try await compose.killPostmaster(m)
        case .switchover(let from, let to):
            try await compose.shared.switchover(from: from, to: to)  // Patroni's REST API, as local
        case .dropPackets(let m, let filter):
            try await compose.dropPackets(m, filter)  // ComposeNetworkFaults.swift
        case .breakArchiving(let m, let filter):
            let seg = try await compose.breakArchiving(m, filter)  // ComposeArchiving.swift
            probes.note("break-archiving \(m): object store port dropped, pg_switch_wal() closed \(seg); archiver: "
                        + ((try? compose.shared.archiverStatus(m).summary) ?? "?"))
        case .shapeLink(let m, let shape):
            try await compose.shapeLink(m, shape)  // ComposeStorageFaults.swift
        case .stopProcess(let m, let p):
            try await compose.stopProcess(m, p)  // ComposeProcessFaults.swift
        case .fillDisk(let m, let p):
            let before = try await compose.volumeUsage(m)
            let bytes = try await compose.fillDisk(m, percent: p)
            let after = try await compose.volumeUsage(m)
            probes.note("fill-disk \(m): \(bytes) bytes of ballast; volume \(LocalRunnerEnvironment.pct(before)) -> \(LocalRunnerEnvironment.pct(after)) used")
        case .stopDCS(let ms):
            try await compose.stopEtcd(ms)
        // SQL and REST faults: the local code, from the host through the compose network (the same address plan).
        case .pauseReplay(let m):
            try compose.shared.pauseReplay(m)
        case .holdSessions(let m, let hold):
            let what = try await compose.shared.holdSessions(m, hold, registry: sessions)
            probes.note("\(hold.rawValue) on \(m): \(what)")
        case .roguePromote(let m):
            try await compose.shared.roguePromote(m)
            probes.note("rogue-promote \(m): maintenance mode on, pg_promote() returned true")
        case .pausePooler:
            try await compose.shared.pausePooler()  // PgBouncer's admin console in the proxy container
            probes.note("pause-pooler: PgBouncer PAUSE returned (every server connection released)")
        case .asyncReplication:
            try await compose.shared.asyncReplication()
            probes.note("async-replication: synchronous_mode false, maximum_lag_on_failover 1 GiB; the primary names no synchronous standby")
        }
    }

    public func revert(_ reversal: Reversal) async throws {
        switch reversal {
        case .startNode(let m), .startPostgres(let m):
            // Patroni starts (or has already restarted) PostgreSQL; starting Patroni is idempotent.
            try await compose.startPatroniIfDown(m)
        case .nothingToUndo:
            break
        case .restorePackets(let m, let filter):
            if filter.services == [.objectStore] {  // break-archiving: what piled up while the store was unreachable
                probes.note("break-archiving \(m) before the heal; archiver: " + ((try? compose.shared.archiverStatus(m).summary) ?? "?"))
            }
            try await compose.restorePackets(m, filter)
        case .unshapeLink(let m, let shape):
            try await compose.unshapeLink(m, kind: LocalEnvironment.qdiscKind(shape))
        case .continueProcess(let m, let p):
            try await compose.continueProcess(m, p)
        case .removeBallast(let m):
            try await compose.removeBallast(m)
        case .resumeReplay(let m):
            try compose.shared.resumeReplay(m)
        case .startDCS(let ms):
            try await compose.startEtcdIfDown(ms)
        case .endSessions(let m, let hold):
            try compose.shared.endSessions(m, hold, registry: sessions)
        case .rejoinRogue(let m):
            probes.note("rejoin \(m): " + (try await compose.shared.rejoinRogue(m)))
        case .resumePooler:
            let resumed = try await compose.shared.resumePooler()
            probes.note("resume-pooler: " + (resumed ? "PgBouncer RESUME" : "PgBouncer was not paused"))
        case .syncReplication:
            probes.note("sync-replication: " + (try await compose.shared.syncReplication()))
        }
    }
}

extension ComposeEnvironment {
    /// SIGKILLs Patroni and every PostgreSQL process in `node`'s container (etcd keeps running, as in local), in
    /// passes until no process of the postgres user is left (a backend forked between listing and kill would keep
    /// the shared memory attached).
    func killNode(_ node: String) async throws {
        let script = """
            pids=$(pgrep -u postgres) || { echo 'nothing running'; exit 3; }
            for i in 1 2 3 4 5 6 7 8 9 10; do
              kill -9 $pids 2>/dev/null; sleep 0.05
              pids=$(pgrep -u postgres) || exit 0
            done
            echo "postgres processes left: $pids"; exit 4
            """
        let r = try await exec(node, ["sh", "-c", script], check: false)
        guard r.succeeded else { throw EnvironmentError.unhealthy("kill of \(node): \(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines))") }
    }

    /// SIGKILLs `node`'s postmaster (from its postmaster.pid); Patroni notices and restarts PostgreSQL, or fails over.
    func killPostmaster(_ node: String) async throws {
        let pidFile = "\(config.local.dataDir(node))/postmaster.pid"
        let r = try await exec(node, ["sh", "-c", "p=$(head -1 \(pidFile) 2>/dev/null) && kill -9 \"$p\""], check: false)
        guard r.succeeded else { throw EnvironmentError.unhealthy("PostgreSQL is not running on \(node)") }
    }

    /// Whether Patroni runs in `node`'s container (false when the container is not running).
    func patroniRunning(_ node: String) async throws -> Bool {
        try await exec(node, ["pgrep", "-u", "postgres", "-f", config.local.patroni], check: false).succeeded
    }

    /// Starts Patroni in `node`'s container unless it runs.
    func startPatroniIfDown(_ node: String) async throws {
        guard !(try await patroniRunning(node)) else { return }
        try await exec(node, ["node-start", config.local.nodeDir(node), "patroni"])
    }

    /// `docker start` for a container that is not running.
    func startContainerIfStopped(_ service: String) async throws {
        guard !(try await containerRunning(service)) else { return }
        try await runner.run([engine.docker, "start", config.container(service)], timeout: .seconds(60))
    }
}
