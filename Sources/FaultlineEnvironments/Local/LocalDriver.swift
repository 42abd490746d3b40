import Faultline
import Foundation
import Logging

/// The `local` driver: real processes in network namespaces on this machine (`LocalEnvironment`).
public struct LocalDriver: EnvironmentDriver {
    public static let entry = DriverEntry(name: "local", summary: "real processes in network namespaces on this machine") {
        LocalDriver($0)
    }

    public let name = "local"
    public let context: DriverContext

    public init(_ context: DriverContext) { self.context = context }

    public var stateDir: String { context.stateDir ?? LocalConfig().stateDir }

    /// The environment as recorded at `up`, or nil when it is not up.
    public func existing() -> LocalEnvironment? {
        LocalEnvironment.existing(stateDir: stateDir, logger: context.logger)
    }

    func running() throws(EnvironmentError) -> LocalEnvironment {
        guard let env = existing() else { throw .notUp(name) }
        return env
    }

    /// The configuration a bring-up with `settings` uses (`FAULTLINE_SUBNET` and `FAULTLINE_NAME_PREFIX` as defaults,
    /// so a second environment never comes up on the first one's subnet and names).
    public func config(_ settings: UpSettings) -> LocalConfig {
        var cfg = LocalConfig()
        cfg.home = context.home
        cfg.stateDir = stateDir
        if let s = settings.subnet ?? context.variables["FAULTLINE_SUBNET"] { cfg.subnet = s }
        if let p = settings.namePrefix ?? context.variables["FAULTLINE_NAME_PREFIX"] { cfg.namePrefix = p }
        if let d = settings.dataSizeMiB { cfg.dataSizeMiB = d }
        if let d = settings.dcsAPI { cfg.dcsAPI = d }
        if let d = settings.dcsEndpoints { cfg.dcsEndpoints = d }
        if let t = settings.ttl { cfg.ttl = t }
        if let l = settings.loopWait { cfg.loopWait = l }
        if let r = settings.retryTimeout { cfg.retryTimeout = r }
        if let a = settings.alerts { cfg.observability = a }
        switch settings.patroni ?? "venv" {
        case "venv": cfg.patroni = "\(cfg.home)/.venv/bin/patroni"
        case "debian": cfg.patroni = "/usr/bin/patroni"
        case let path: cfg.patroni = path
        }
        return cfg
    }

    public func isUp() async throws -> Bool { existing() != nil }

    public func up(_ settings: UpSettings) async throws -> BringUpReport {
        try await LocalEnvironment(config: config(settings), logger: context.logger).up()
    }

    public func down() async throws -> [String] {
        var cfg = existing()?.config ?? config(UpSettings())
        cfg.stateDir = stateDir
        let env = LocalEnvironment(config: cfg, logger: context.logger)
        try await env.down()
        return try await env.leftovers()
    }

    public func status(withMemory: Bool) async throws -> ClusterStatus {
        await try running().status(withMemory: withMemory)
    }

    public func runnerEnvironment() throws -> any Faultline.Environment {
        LocalRunnerEnvironment(try running())
    }

    public func endpoints() throws -> Endpoints {
        let local = try running()
        let cfg = local.config
        // While it runs, the load serves /metrics on the host side of the bridge, where the environment's
        // Prometheus scrapes it (job "load").
        return Endpoints(readWrite: cfg.readWrite, readOnly: cfg.readOnly, pooler: cfg.pooler,
                         loadMetricsListen: cfg.observabilityEnabled ? cfg.loadMetricsAddress : nil,
                         application: local.applicationConninfo, poolerSession: cfg.poolerSession)
    }
}
