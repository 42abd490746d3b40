import Faultline
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

/// The load generator for `scenario`'s workloads against `environment`, adapted to `LoadDriver`.
/// The runner stops it by cancelling the task that called `run` (adapter: call `LoadGenerator.stop()`
/// from a task cancellation handler and return the observations).
func makeLoadDriver(for scenario: Scenario, environmentName: String, logger: Logger) throws -> any LoadDriver {
    throw WiringError("the load generator is not wired into `faultline run` yet (Sources/faultline/Wiring.swift)")
}

struct WiringError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
