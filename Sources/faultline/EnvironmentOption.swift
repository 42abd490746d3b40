import ArgumentParser
import FaultlineEnvironments
import FaultlineWiring
import Logging

/// `--environment NAME` (alias `--env`), the same on `run`, `env`, `heal` and `load`: an unknown name is
/// refused before anything is touched, with the known drivers named (exit 2).
struct EnvironmentOption: ParsableArguments {
    @Option(name: [.customLong("environment"), .customLong("env")],
            help: ArgumentHelp("Environment driver: \(Drivers.names.joined(separator: ", ")).", valueName: "name"))
    var environment: String = "local"

    func validate() throws {
        do { try Drivers.validate(environment) } catch { throw ValidationError(error.message) }
    }

    /// The driver, with the state directory `stateDir` (nil: `FAULTLINE_STATE_DIR`, else the driver's default).
    func driver(stateDir: String? = nil, logger: Logger) throws -> any EnvironmentDriver {
        do { return try environmentDriver(environment, stateDir: stateDir, logger: logger) } catch { throw ValidationError(error.message) }
    }
}
