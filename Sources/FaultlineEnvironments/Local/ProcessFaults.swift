import Faultline
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Process faults of the local environment: SIGSTOP / SIGCONT of a node's PostgreSQL (postmaster and
/// every backend), Patroni or etcd, and stopping etcd members (DCS quorum loss). Processes are found by
/// pid file and parent pid, never by name.
extension LocalEnvironment {
    /// The pids a pause of `process` on `node` signals, found now.
    public func pids(of process: ProcessKind, on node: String) -> [Int32] {
        switch process {
        case .patroni: return daemons.livePid("\(node)-patroni").map { [$0] } ?? []
        case .etcd: return daemons.livePid("\(node)-etcd").map { [$0] } ?? []
        case .postgres:
            guard let pm = postmasterPID(node) else { return [] }
            return [pm] + Self.children(of: pm)
        }
    }

    /// Direct children of `pid`, from /proc.
    static func children(of pid: Int32) -> [Int32] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap(Int32.init).filter { p in
            guard let stat = try? String(contentsOfFile: "/proc/\(p)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return false }
            let rest = stat[stat.index(after: close)...].split(separator: " ")
            return rest.count > 1 && Int32(rest[1]) == pid
        }
    }

    /// Process state letter (R, S, T, ...) of `pid`, or nil when it is gone.
    public static func processState(_ pid: Int32) -> Character? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(after: close)...].split(separator: " ").first?.first
    }

    /// SIGSTOPs the process (PostgreSQL: the postmaster first, then every backend).
    public func stopProcess(_ node: String, _ process: ProcessKind) throws {
        let victims = pids(of: process, on: node)
        guard !victims.isEmpty else { throw EnvironmentError.unhealthy("\(process.rawValue) is not running on \(node)") }
        runner.commandLog?.append("kill -STOP \(victims.map(String.init).joined(separator: " "))  # \(node) \(process.rawValue)")
        for p in victims { kill(p, SIGSTOP) }
    }

    /// SIGCONTs the process (and, for PostgreSQL, every backend). Idempotent.
    public func continueProcess(_ node: String, _ process: ProcessKind) {
        let targets = pids(of: process, on: node)
        guard !targets.isEmpty else { return }
        runner.commandLog?.append("kill -CONT \(targets.map(String.init).joined(separator: " "))  # \(node) \(process.rawValue)")
        for p in targets { kill(p, SIGCONT) }
    }

    /// Stops etcd on `nodes` (SIGTERM, then SIGKILL after 5 s).
    public func stopEtcd(_ nodes: [String]) async {
        for n in nodes {
            runner.commandLog?.append("stop \(n)-etcd (SIGTERM)")
            await daemons.stop("\(n)-etcd", signal: SIGTERM, grace: .seconds(5))
        }
    }

    /// Starts etcd on those of `nodes` where it is not running. Idempotent.
    public func startEtcdIfDown(_ nodes: [String]) async throws {
        for n in nodes where !daemons.isRunning("\(n)-etcd") { try await startEtcd(n) }
    }
}
