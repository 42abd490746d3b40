import Faultline
import Foundation
import Logging

/// The `compose` driver: the local environment's topology as docker-compose containers on a Docker engine it starts
/// itself (`ComposeEnvironment`).
public struct ComposeDriver: EnvironmentDriver {
    public static let entry = DriverEntry(name: "compose", summary: "the same topology as docker-compose containers (Docker engine started when none runs)") {
        ComposeDriver($0)
    }

    public let name = "compose"
    /// Debian's Patroni 3.0.2 in the image (`--patroni debian`).
    public static let debianPatroni = "/usr/bin/patroni"
    public let context: DriverContext

    public init(_ context: DriverContext) { self.context = context }

    /// `--state-dir` when given; FAULTLINE_STATE_DIR is the local environment's and is not taken here (a compose
    /// `down` would remove it): FAULTLINE_COMPOSE_STATE_DIR, else /var/lib/faultline/compose.
    public var stateDir: String {
        if let s = context.stateDir, s != context.variables["FAULTLINE_STATE_DIR"] { return s }
        return context.variables["FAULTLINE_COMPOSE_STATE_DIR"] ?? ComposeConfig.defaultStateDir
    }

    public func existing() -> ComposeEnvironment? { ComposeEnvironment.existing(stateDir: stateDir, logger: context.logger) }

    func running() throws(EnvironmentError) -> ComposeEnvironment {
        guard let env = existing() else { throw .notUp(name) }
        return env
    }

    /// The configuration a bring-up with `settings` uses: `--subnet`, else FAULTLINE_COMPOSE_SUBNET, else 10.79.0.0/24
    /// (never FAULTLINE_SUBNET: that is the local environment's). The timing profile is the local one's, with the
    /// same `--ttl`, `--loop-wait` and `--retry-timeout`.
    public func config(_ settings: UpSettings) -> ComposeConfig {
        var cfg = ComposeConfig(subnet: settings.subnet ?? context.variables["FAULTLINE_COMPOSE_SUBNET"] ?? ComposeConfig.defaultSubnet,
                                stateDir: stateDir, home: context.home)
        if let p = context.variables["FAULTLINE_COMPOSE_PROJECT"] { cfg.project = p }
        if let t = settings.ttl { cfg.local.ttl = t }
        if let l = settings.loopWait { cfg.local.loopWait = l }
        if let r = settings.retryTimeout { cfg.local.retryTimeout = r }
        if let d = settings.dcsAPI { cfg.local.dcsAPI = d }
        if let d = settings.dcsEndpoints { cfg.local.dcsEndpoints = d }
        // `--alerts off`: no Prometheus or Alertmanager (the proxy starts them only when their configuration is there).
        if let a = settings.alerts { cfg.local.observability = a }
        // The image holds both: /opt/patroni's 4.1.x (the reference) and Debian's 3.0.2 (the known-bad control).
        if settings.patroni == "debian" { cfg.local.patroni = Self.debianPatroni }
        return cfg
    }

    public func isUp() async throws -> Bool { existing() != nil }

    public func up(_ settings: UpSettings) async throws -> BringUpReport {
        if let p = settings.patroni, p != "venv", p != "debian" {
            throw EnvironmentError.badConfig("--patroni \(p): the compose image has 'venv' (Patroni 4.1.x) and 'debian' (3.0.2) only; use one of them")
        }
        return try await ComposeEnvironment(config: config(settings), logger: context.logger).up()
    }

    public func down() async throws -> [String] {
        let env = existing() ?? ComposeEnvironment(config: config(UpSettings()), logger: context.logger)
        return try await env.down()
    }

    public func status(withMemory: Bool) async throws -> ClusterStatus {
        await try running().status()
    }

    public func runnerEnvironment() throws -> any Faultline.Environment {
        ComposeRunnerEnvironment(try running())
    }

    public func endpoints() throws -> Endpoints {
        let env = try running()
        let l = env.config.local
        // While it runs, the load serves /metrics on the bridge's host address (.254), where Prometheus scrapes it.
        return Endpoints(readWrite: l.readWrite, readOnly: l.readOnly, pooler: l.pooler, loadMetricsListen: l.loadMetricsAddress,
                         application: env.shared.applicationConninfo, poolerSession: l.poolerSession)
    }
}
