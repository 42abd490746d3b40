import Faultline
import FaultlineEnvironments
import FaultlineLoad
import Foundation
import Logging
import Scenarios

// WIRING: the one place `faultline run` and `faultline heal` meet the real environment and load generator.
// A module of its own so the integration tests run scenarios through this same wiring (the environment
// drivers cannot see FaultlineLoad).

/// Catalogue scenario `name` with its `--set` overrides applied, or a one-line `InputError`.
public func resolveScenario(name: String, overrides: [String]) throws(InputError) -> Scenario {
    let s = try Catalogue.lookup(name).applying(try ParameterOverride.parseAll(overrides))
    if let problem = s.problems().first { throw InputError("scenario '\(name)' after --set: \(problem)") }
    return s
}

/// Where an environment keeps its state (and the fault ledger).
public func stateDirectory(for name: String) -> String {
    ProcessInfo.processInfo.environment["FAULTLINE_STATE_DIR"] ?? LocalConfig().stateDir
}

/// The persisted fault ledger of environment `name`: it lives with the environment's state, so
/// `faultline heal` finds it from any working directory, and `env down` removes it with the rest.
public func faultLedgerURL(for name: String) -> URL {
    faultLedgerURL(stateDir: stateDirectory(for: name))
}

/// The fault ledger file of the environment whose state is in `stateDir`.
public func faultLedgerURL(stateDir: String) -> URL {
    URL(fileURLWithPath: stateDir).appendingPathComponent("fault-ledger.json")
}

/// The environment driver called `name`, brought up first when `bringUp` is set and it is not up.
public func makeEnvironment(name: String, logger: Logger, bringUp: Bool = false) async throws -> any Environment {
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
    let elapsed = Double(report.elapsed.components.seconds) + Double(report.elapsed.components.attoseconds) / 1e18
    FileHandle.standardError.write(Data(String(format: "faultline: local environment healthy after %.1f s\n", elapsed).utf8))
    return LocalRunnerEnvironment(LocalEnvironment(config: cfg, logger: logger))
}

/// The load generator for `scenario`'s workloads against the environment, adapted to `LoadDriver`
/// (FaultlineLoad's `LoadGeneratorDriver`). The runner stops it by cancelling the task that called `run`.
public func makeLoadDriver(for scenario: Scenario, environment: any Environment, logger: Logger) throws -> any LoadDriver {
    guard let local = environment as? LocalRunnerEnvironment else {
        throw WiringError("no load endpoints known for this environment (Sources/FaultlineWiring/Wiring.swift)")
    }
    let cfg = local.local.config
    // While it runs, the load serves /metrics on the host side of the bridge, where the environment's
    // Prometheus scrapes it (job "load").
    let metrics = cfg.observabilityEnabled ? cfg.loadMetricsAddress : nil
    return LoadGeneratorDriver(endpoints: .init(writes: cfg.readWrite, reads: cfg.readOnly), logger: logger,
                               tune: { $0.metricsListen = metrics })
}

public struct WiringError: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}

/// The Faultline checkout (where `environments/local` is): `FAULTLINE_HOME`, else found upwards from the
/// executable or the working directory.
public enum FaultlineHome {
    public static func locate() throws -> String {
        let fm = FileManager.default
        if let h = ProcessInfo.processInfo.environment["FAULTLINE_HOME"] { return h }
        var starts = [fm.currentDirectoryPath]
        if let exe = try? fm.destinationOfSymbolicLink(atPath: "/proc/self/exe") { starts.insert(exe, at: 0) }
        for s in starts {
            var dir = URL(fileURLWithPath: s)
            while dir.path != "/" {
                if fm.fileExists(atPath: dir.appendingPathComponent("environments/local/patroni.yml.tmpl").path) { return dir.path }
                dir.deleteLastPathComponent()
            }
        }
        throw EnvironmentError.requirementMissing("the Faultline checkout (environments/local); set FAULTLINE_HOME")
    }
}
