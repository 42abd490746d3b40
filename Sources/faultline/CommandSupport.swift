import ArgumentParser
import Faultline
import FaultlineConcurrency
import FaultlineEnvironments
import FaultlineWiring
import Foundation
import Logging

// What the commands that run scenarios (`run`, `suite`, `gameday`) share: the log level, the reports folder, the
// race of a run against the first Ctrl-C, and the exit of a run that threw before it could report.

/// `--log-level`, parsed: bad input (a `ValidationError`, exit 2) before anything is touched.
func parseLogLevel(_ text: String) throws -> Logger.Level {
    guard let level = Logger.Level(rawValue: text) else {
        throw ValidationError("--log-level '\(text)': expected trace, debug, info, notice, warning or error")
    }
    return level
}

/// Where reports go unless `--reports` says: `reports/` of the Faultline checkout.
let defaultReportsFolder = (try? FaultlineHome.locate()).map { "\($0)/reports" } ?? "reports"

/// Runs `body` to its end; the first SIGINT or SIGTERM meanwhile calls `onInterrupt` once (which asks `body` to stop
/// gracefully: it heals on its way out), and later ones are ignored so that heal is not cut short.
func untilDone<T: Sendable>(_ body: @escaping @Sendable () async throws -> T,
                            onInterrupt: @escaping @Sendable () -> Void) async -> Result<T, any Error> {
    await withTaskGroup(of: Result<T, any Error>?.self) { group in
        group.addTask {
            do { return .success(try await body()) } catch { return .failure(error) }
        }
        group.addTask {
            _ = await Signals.firstInterrupt()
            return nil
        }
        var result: Result<T, any Error>?
        while let next = await group.next() {
            if let r = next { result = r; group.cancelAll() } else if result == nil { onInterrupt() }
        }
        return result ?? .failure(WiringError("ended without a result"))
    }
}

/// The exit of a run that threw before it could report (the environment not up, its bring-up failed): the
/// environment error's own code, else a harness error; the one line is printed.
func exitAfterFailure(_ error: any Error) -> ExitCode {
    if let e = error as? EnvironmentError {
        printError("faultline: \(e.description)")
        return ExitCode(e.exitCode)
    }
    printError("faultline: \(describe(error))")
    return ExitCode(ExitStatus.harnessError.rawValue)
}

/// `--set`, `--abort` and `--reports`, as `run`, `suite` and `gameday` take them.
struct ScenarioOptions: ParsableArguments {
    @Option(name: .customLong("set"), help: ArgumentHelp("Override a scenario parameter, key=value (`faultline run --help` lists them). Repeatable.",
                                                        valueName: "key=value"))
    var overrides: [String] = []

    @Option(name: .customLong("abort"), help: ArgumentHelp(
        "Abort (heal now, exit 7) when this holds: error-rate>50%/60s, p99>2s/30s, lost-writes>0, disk-free<5%, replication-lag>64MiB. Repeatable.",
        valueName: "condition"))
    var abort: [String] = []

    @Option(help: ArgumentHelp("Directory for reports (default: reports/ of the Faultline checkout).", valueName: "dir"))
    var reports = defaultReportsFolder

    var reportsURL: URL { URL(fileURLWithPath: reports, isDirectory: true) }

    /// The run of scenario `name` with these options (`RunSession.prepare`); bad input is one line and exit 2, nothing touched.
    func session(_ name: String, targets: TargetOption, environment: String, logger: Logger) throws -> RunSession {
        do {
            return try RunSession.prepare(scenario: name, overrides: overrides, abort: abort, targets: targets.targets,
                                          environment: environment, reports: reportsURL, logger: logger)
        } catch {
            printError("faultline: \(error)")
            throw ExitCode(ExitStatus.badInput.rawValue)
        }
    }
}

/// `--target`: what a fault may touch beyond the environment's blast radius (docs/safety.md).
struct TargetOption: ParsableArguments {
    @Option(name: .customLong("target"), help: ArgumentHelp(
        "A member or address a fault may touch beyond the environment's blast radius ('environment': one Faultline did not bring up). Repeatable.",
        valueName: "name"))
    var targets: [String] = []
}
