import Faultline
import FaultlineLoad
import Logging

// ─────────────────────────────────────────────────────────────────────────────────────────────
// WIRING: the one place `faultline run` meets the real environment and load generator.
// Owners of FaultlineEnvironments / FaultlineLoad: replace the two bodies below with adapters
// (see the protocol docs in Sources/Faultline/Runner/Protocols.swift). Until then `run` exits 3.
// ─────────────────────────────────────────────────────────────────────────────────────────────

/// The environment driver called `name` ("local", ...), adapted to the core `Environment` protocol.
func makeEnvironment(name: String, logger: Logger) throws -> any Environment {
    throw WiringError("environment '\(name)' is not wired into `faultline run` yet (Sources/faultline/Wiring.swift)")
}

/// The load generator for `scenario`'s workloads against the environment, adapted to `LoadDriver`
/// (FaultlineLoad's `LoadGeneratorDriver`). The runner stops it by cancelling the task that called `run`.
func makeLoadDriver(for scenario: Scenario, environmentName: String, logger: Logger) throws -> any LoadDriver {
    switch environmentName {
    case "local":
        // HAProxy read-write / read-only of the local environment (the same defaults as `faultline load`).
        return LoadGeneratorDriver(endpoints: .init(writes: LoadCommand.defaultWrite, reads: LoadCommand.defaultRead), logger: logger)
    default:
        throw WiringError("no load endpoints known for environment '\(environmentName)' (Sources/faultline/Wiring.swift)")
    }
}

struct WiringError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
