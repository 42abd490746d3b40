import Faultline
import FaultlineEnvironments
import FaultlineLoad
import Foundation
import Logging

// WIRING: the one place `faultline run` and `faultline heal` meet the real environment and load generator.

/// Where an environment keeps its state (and the fault ledger).
func stateDirectory(for name: String) -> String {
    ProcessInfo.processInfo.environment["FAULTLINE_STATE_DIR"] ?? LocalConfig().stateDir
}

/// The persisted fault ledger of environment `name`: it lives with the environment's state, so
/// `faultline heal` finds it from any working directory, and `env down` removes it with the rest.
func faultLedgerURL(for name: String) -> URL {
    URL(fileURLWithPath: stateDirectory(for: name)).appendingPathComponent("fault-ledger.json")
}

/// The environment driver called `name`, brought up first when `bringUp` is set and it is not up.
func makeEnvironment(name: String, logger: Logger, bringUp: Bool = false) async throws -> any Environment {
    guard name == "local" else { throw WiringError("environment '\(name)' is not available; use --environment local") }
    let stateDir = stateDirectory(for: name)
    if let env = LocalEnvironment.existing(stateDir: stateDir, logger: logger) { return LocalRunnerEnvironment(env) }
    guard bringUp else { throw EnvironmentError.notUp(name) }
    var cfg = LocalConfig()
    cfg.home = try FaultlineHome.locate()
    cfg.patroni = "\(cfg.home)/.venv/bin/patroni"
    cfg.stateDir = stateDir
    // A second environment (FAULTLINE_STATE_DIR set) must not come up on the default subnet and names.
    let vars = ProcessInfo.processInfo.environment
    if let subnet = vars["FAULTLINE_SUBNET"] { cfg.subnet = subnet }
    if let prefix = vars["FAULTLINE_NAME_PREFIX"] { cfg.namePrefix = prefix }
    FileHandle.standardError.write(Data("faultline: the local environment is not up; bringing it up…\n".utf8))
    let report = try await LocalEnvironment(config: cfg, logger: logger).up()
    FileHandle.standardError.write(Data(String(format: "faultline: local environment healthy after %.1f s\n", report.elapsed.seconds).utf8))
    return LocalRunnerEnvironment(LocalEnvironment(config: cfg, logger: logger))
}

/// The load generator for `scenario`'s workloads against the environment, adapted to `LoadDriver`
/// (FaultlineLoad's `LoadGeneratorDriver`). The runner stops it by cancelling the task that called `run`.
func makeLoadDriver(for scenario: Scenario, environment: any Environment, logger: Logger) throws -> any LoadDriver {
    guard let local = environment as? LocalRunnerEnvironment else {
        throw WiringError("no load endpoints known for this environment (Sources/faultline/Wiring.swift)")
    }
    let cfg = local.local.config
    // While it runs, the load serves /metrics on the host side of the bridge, where the environment's
    // Prometheus scrapes it (job "load").
    let metrics = cfg.observabilityEnabled ? cfg.loadMetricsAddress : nil
    return LoadGeneratorDriver(endpoints: .init(writes: cfg.readWrite, reads: cfg.readOnly), logger: logger,
                               tune: { $0.metricsListen = metrics })
}

struct WiringError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
