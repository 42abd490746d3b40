import FaultlinePG
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// The `local` environment: real processes in Linux network namespaces on this machine.
///
/// Topology: a client namespace `fl-client` holds the bridge (`.1`), HAProxy and PgBouncer; one
/// namespace per node holds etcd, Patroni and PostgreSQL 15 on its own size-limited tmpfs; the host
/// reaches the bridge through one veth (`.254`), so the host's own network is never bridged.
public struct LocalEnvironment: Sendable {
    public var config: LocalConfig
    public let logger: Logger
    public let runner: CommandRunner
    public let daemons: Daemons

    public init(config: LocalConfig, logger: Logger) {
        self.config = config
        self.logger = logger
        let state = URL(fileURLWithPath: config.stateDir)
        self.runner = CommandRunner(logger: logger, commandLog: CommandLog(url: state.appendingPathComponent("commands.log")))
        self.daemons = Daemons(runner: runner, pidDir: state.appendingPathComponent("pids"), logDir: state.appendingPathComponent("logs"))
    }

    /// The environment as recorded at `up` in `stateDir`, or nil when it is not up.
    public static func existing(stateDir: String = LocalConfig().stateDir, logger: Logger) -> LocalEnvironment? {
        let url = URL(fileURLWithPath: stateDir).appendingPathComponent("config.json")
        guard let data = try? Data(contentsOf: url), let cfg = LocalConfig.decode(data) else { return nil }
        return LocalEnvironment(config: cfg, logger: logger)
    }

    public var endpoints: [String: String] {
        ["rw": config.readWrite, "ro": config.readOnly, "pooler": config.pooler, "pooler-session": config.poolerSession,
         "rest": config.nodeNames.map(config.restURL).joined(separator: ","), "s3": config.s3URL, "s3-b": config.objectStores[1].url].merging(observabilityEndpoints) { a, _ in a }
    }

    /// Whether any part of the environment exists: its state or one of its namespaces.
    public func isUp() async throws -> Bool {
        if FileManager.default.fileExists(atPath: "\(config.stateDir)/config.json") { return true }
        let existing = try await netnsList()
        return config.allNetns.contains { existing.contains($0) }
    }

    func netnsList() async throws -> Set<String> {
        let out = try await runner.run(["/usr/sbin/ip", "netns", "list"]).stdout
        return Set(out.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) })
    }

    // MARK: process faults

    /// The postmaster pid of `node`, from its `postmaster.pid`, if PostgreSQL is running.
    public func postmasterPID(_ node: String) -> Int32? {
        guard let s = try? String(contentsOfFile: "\(config.dataDir(node))/postmaster.pid", encoding: .utf8),
              let first = s.split(separator: "\n").first, let pid = Int32(first), Daemons.isAlive(pid) else { return nil }
        return pid
    }

    /// Sends `signal` to `node`'s postmaster (SIGQUIT = immediate shutdown, SIGKILL = crash).
    /// Patroni notices and restarts PostgreSQL, or fails over.
    public func signalPostgres(_ node: String, _ signal: Int32) throws {
        guard let pid = postmasterPID(node) else { throw EnvironmentError.unhealthy("PostgreSQL is not running on \(node)") }
        runner.commandLog?.append("kill -\(signal) \(pid)  # \(node) postmaster")
        guard kill(pid, signal) == 0 else { throw EnvironmentError.unhealthy("cannot signal PostgreSQL on \(node)") }
    }

    // MARK: helpers

    /// Calls `body` every 100 ms until it returns a value or `timeout` passes.
    func poll<T: Sendable>(timeout: Duration, what: String, _ body: () async throws -> T?) async throws -> T {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let v = try await body() { return v }
            guard ContinuousClock.now < deadline else { throw EnvironmentError.unhealthy("timed out after \(timeout) waiting for \(what)") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    func writePrivate(_ path: String, _ text: String, owner: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw EnvironmentError.badConfig("cannot write \(path)")
        }
        try chmod(path, 0o600)
        try chown(path, owner)
    }

    /// Gives `path` to `user` (a system user such as postgres).
    func chown(_ path: String, _ user: String) throws {
        guard let pw = getpwnam(user) else { throw EnvironmentError.requirementMissing("system user \(user)") }
        guard Glibc.chown(path, pw.pointee.pw_uid, pw.pointee.pw_gid) == 0 else {
            throw EnvironmentError.badConfig("cannot chown \(path) to \(user)")
        }
    }

    func chmod(_ path: String, _ mode: mode_t) throws {
        guard Glibc.chmod(path, mode) == 0 else { throw EnvironmentError.badConfig("cannot chmod \(path)") }
    }
}

extension JSONEncoder {
    static var pretty: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return e
    }
}
