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
        case .shapeLink, .stopProcess, .fillDisk, .pauseReplay, .stopDCS, .holdSessions,
             .roguePromote, .pausePooler:
            throw FaultUnsupported("\(action) is not built for the compose environment yet (docs/environments.md)")
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
        // Never applied here (their apply throws FaultUnsupported): nothing to undo.
        case .unshapeLink, .continueProcess, .removeBallast, .resumeReplay, .startDCS, .endSessions,
             .rejoinRogue, .resumePooler:
            break
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
