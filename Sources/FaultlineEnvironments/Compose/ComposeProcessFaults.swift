import Faultline
import Foundation

/// Process faults of the compose environment, inside the node's container (its own pid namespace): SIGSTOP / SIGCONT
/// of PostgreSQL (the postmaster from its `postmaster.pid`, then every child of it), Patroni or etcd (by user and
/// executable, as each runs as its own user), and stopping etcd members (DCS quorum loss). The semantics are the local
/// environment's (`ProcessFaults.swift`); the heal SIGCONTs every process of every node's container.
extension ComposeEnvironment {
    /// A shell snippet that prints the pids a pause of `process` signals, found now (empty when it does not run).
    func pidsScript(_ process: ProcessKind, on node: String) -> String {
        switch process {
        case .postgres:
            let pidFile = "\(config.local.dataDir(node))/postmaster.pid"
            return "pm=$(head -1 \(pidFile) 2>/dev/null) && kill -0 \"$pm\" 2>/dev/null && echo $pm $(pgrep -P \"$pm\")"
        case .patroni: return "pgrep -u postgres -f /opt/patroni/bin/patroni"
        case .etcd: return "pgrep -u etcd -x etcd"
        }
    }

    /// SIGSTOPs the process in `node`'s container (PostgreSQL: the postmaster and every backend).
    func stopProcess(_ node: String, _ process: ProcessKind) async throws {
        let r = try await exec(node, ["sh", "-c", "p=$(\(pidsScript(process, on: node))) && [ -n \"$p\" ] && kill -STOP $p && echo $p"], check: false)
        guard r.succeeded else { throw EnvironmentError.unhealthy("\(process.rawValue) is not running on \(node)") }
    }

    /// SIGCONTs the process in `node`'s container (and, for PostgreSQL, every backend). Idempotent; a container that
    /// is not running has nothing stopped.
    func continueProcess(_ node: String, _ process: ProcessKind) async throws {
        guard try await containerRunning(node) else { return }
        try await exec(node, ["sh", "-c", "p=$(\(pidsScript(process, on: node))); [ -z \"$p\" ] || kill -CONT $p"], check: false)
    }

    /// The heal's part: SIGCONT to every process in `node`'s container (`kill -CONT -1`: all but its init).
    func continueEverything(_ node: String) async throws {
        guard try await containerRunning(node) else { return }
        try await exec(node, ["kill", "-CONT", "-1"], check: false)
    }

    func etcdRunning(_ node: String) async throws -> Bool {
        try await exec(node, ["pgrep", "-u", "etcd", "-x", "etcd"], check: false).succeeded
    }

    /// Stops etcd in `nodes`' containers (SIGTERM, then SIGKILL after 5 s), as local. The container keeps running
    /// (`node-start` waits on nothing but itself), so Patroni and PostgreSQL go on without their DCS member.
    func stopEtcd(_ nodes: [String]) async throws {
        let script = """
            pkill -TERM -u etcd -x etcd || exit 0
            for i in $(seq 50); do pgrep -u etcd -x etcd >/dev/null || exit 0; sleep 0.1; done
            pkill -KILL -u etcd -x etcd; exit 0
            """
        for n in nodes { try await exec(n, ["sh", "-c", script], timeout: .seconds(20)) }
    }

    /// Starts etcd in those of `nodes` where it is not running (`node-start <dir> etcd`). Idempotent.
    func startEtcdIfDown(_ nodes: [String]) async throws {
        for n in nodes {
            guard try await containerRunning(n), !(try await etcdRunning(n)) else { continue }
            try await exec(n, ["node-start", config.local.nodeDir(n), "etcd"])
        }
    }
}
