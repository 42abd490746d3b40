import FaultlineEnvironments
import Foundation

/// Runs a script with extra environment variables (through `env`), bounded in time and output, both streams read
/// as it runs; secrets masked in its log line. The one way the integration tests start a command.
enum Shell {
    static func run(_ argv: [String], env: [String: String] = [:], timeout: Duration) async throws -> CommandResult {
        let runner = CommandRunner(logger: ClusterFixture.logger)
        return try await runner.run(["/usr/bin/env"] + env.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" } + argv,
                                    check: false, timeout: timeout)
    }

    /// The built `faultline` with `args`, against the tests' environment (`ClusterFixture.cliVariables`, then `extra`).
    static func faultline(_ args: [String], extra: [String: String] = [:], timeout: Duration = .minutes(2)) async throws -> CommandResult {
        try await run([try Integration.ScenarioIntegrationTests.faultlineBinary()] + args,
                      env: ClusterFixture.cliVariables.merging(extra) { $1 }, timeout: timeout)
    }
}

extension CommandResult {
    var output: String { stdout + stderr }
}
