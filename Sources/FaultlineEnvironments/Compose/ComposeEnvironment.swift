import FaultlineConcurrency
import FaultlinePG
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// The `compose` environment: the local environment's topology (three nodes with etcd, Patroni 4.1.x and
/// PostgreSQL 15; HAProxy and PgBouncer) as containers of `environments/compose/docker-compose.yml`, on a Docker
/// engine it starts itself when none runs.
public struct ComposeEnvironment: Sendable {
    public var config: ComposeConfig
    public let logger: Logger
    public let runner: CommandRunner
    public let engine: DockerEngine

    public init(config: ComposeConfig, logger: Logger) {
        self.config = config
        self.logger = logger
        self.runner = CommandRunner(logger: logger, commandLog: CommandLog(url: URL(fileURLWithPath: "\(config.stateDir)/commands.log")))
        self.engine = DockerEngine(runner: runner, engineDir: config.engineDir)
    }

    static func configURL(_ stateDir: String) -> URL { URL(fileURLWithPath: stateDir).appendingPathComponent("compose.json") }

    /// The environment as recorded at `up` in `stateDir`, or nil when it is not up.
    public static func existing(stateDir: String, logger: Logger) -> ComposeEnvironment? {
        guard let data = try? Data(contentsOf: configURL(stateDir)), let cfg = ComposeConfig.decode(data) else { return nil }
        return ComposeEnvironment(config: cfg, logger: logger)
    }

    public var endpoints: [String: String] {
        let l = config.local
        return ["rw": l.readWrite, "ro": l.readOnly, "pooler": l.pooler, "pooler-session": l.poolerSession,
                "rest": l.nodeNames.map(l.restURL).joined(separator: ","), "prometheus": l.prometheusURL, "alertmanager": l.alertmanagerURL]
    }

    /// `docker-compose` with this environment's project, file and env file.
    func compose(_ args: [String], check: Bool = true, timeout: Duration = .seconds(120)) async throws -> CommandResult {
        try await runner.run(config.composeArgv(args), check: check, timeout: timeout)
    }

    /// `docker exec` in `service`'s container.
    @discardableResult
    func exec(_ service: String, _ argv: [String], check: Bool = true, detach: Bool = false, timeout: Duration = .seconds(30)) async throws -> CommandResult {
        try await runner.run([engine.docker, "exec"] + (detach ? ["-d"] : []) + [config.container(service)] + argv, check: check, timeout: timeout)
    }

    // MARK: status

    /// Members and roles from Patroni's REST API (every node asked; the view most share), as the local environment does.
    public func status(withReplication: Bool = true) async -> ClusterStatus {
        let (members, problems) = await PatroniREST.members(config.local)
        var replication: [ReplicationRow] = []
        if withReplication, let leader = members.first(where: \.isLeader) {
            let s = shared
            replication = await Blocking.run { (try? s.replicationRows(on: leader.name)) ?? [] }
        }
        return ClusterStatus(environment: "compose", members: members, replication: replication, endpoints: endpoints,
                             memoryKiB: nil, problems: problems)
    }

    /// Polls until the cluster is healthy (by Patroni) and a real commit goes through HAProxy and PgBouncer.
    func waitHealthy(timeout: Duration) async throws -> ClusterStatus {
        var last: ClusterStatus?
        do {
            return try await shared.poll(timeout: timeout, what: "a healthy cluster") {
                let s = await self.status(withReplication: false)
                last = s
                if !s.healthy, let leader = s.leader?.name { await self.shared.nudgeWAL(on: leader) }
                return s.healthy ? s : nil
            }
        } catch {
            throw EnvironmentError.unhealthy((last?.problems ?? ["no status"]).joined(separator: "; ") + " after \(timeout)")
        }
    }

    // MARK: what is left

    /// This project's containers, networks and volumes, the dockerd it started, its state: empty when nothing is left.
    public func leftovers() async throws -> [String] {
        var left: [String] = []
        if FileManager.default.fileExists(atPath: config.stateDir) { left.append("state dir \(config.stateDir)") }
        if engine.startedByUs { left.append("dockerd (pid \(engine.daemons.pid("dockerd") ?? 0)) started by faultline") }
        if await engine.answers() { left += try await dockerLeftovers() }
        return left
    }

    /// This project's containers, networks and volumes (by compose's project label).
    public func dockerLeftovers() async throws -> [String] {
        var left: [String] = []
        let label = "label=com.docker.compose.project=\(config.project)"
        for (kind, argv) in [("container", ["ps", "-a", "--filter", label, "--format", "{{.Names}}"]),
                             ("network", ["network", "ls", "--filter", label, "--format", "{{.Name}}"]),
                             ("volume", ["volume", "ls", "--filter", label, "--format", "{{.Name}}"])] {
            let r = try await runner.run([engine.docker] + argv, timeout: .seconds(20))
            left += r.stdout.split(whereSeparator: \.isNewline).map { "\(kind) \($0)" }
        }
        return left
    }
}
