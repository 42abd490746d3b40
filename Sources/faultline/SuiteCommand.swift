import ArgumentParser
import Faultline
import FaultlineConcurrency
import FaultlineEnvironments
import FaultlineWiring
import Foundation
import Logging

/// `faultline suite`: the nightly reliability suite: many scenarios, healed between runs, one JUnit file and a summary.
struct SuiteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suite",
        abstract: "Run a suite of scenarios (by tag, name or suite file), healed between runs, with one JUnit file and a summary.",
        discussion: """
        Selection: scenario names, --tag (repeatable: every tag required, as `faultline list --tag`), or --file suite.json
        (docs/suite.md). Command-line flags override the file's. Each run heals and checks health first (after the first);
        --repeat N runs each N times (in rounds) and reports every scenario's statuses and flake rate.

        A run starts only while the --budget left covers its minimum wall time (steady state + holds + observe + 10 s);
        the rest are "not run: budget exhausted". A run longer than --scenario-timeout is stopped, healed and counted a
        harness error. Without --keep-going the suite stops at the first run that does not exit 0.

        Reports: <reports>/<suite-id>/summary.json, summary.md, summary.html, junit.xml (a testsuite a run), and each
        run's own folder below it. Ctrl-C stops the current run (it heals), marks the rest not run and writes the summary.

        Exit codes: the worst run's, as for `run`: 0 passed (or skipped), 1 a target failed, 3 harness error (a timeout or
        a failed heal included), 7 aborted; 2 bad input (nothing run).

        Examples:
          faultline suite --tag nightly --keep-going --budget 30m
          faultline suite switchover kill-postgres --repeat 3 --set steady=5s
          faultline suite --file suite.json --dry-run
        """
    )

    @Argument(help: ArgumentHelp("Scenario names (see `faultline list`).", valueName: "scenario"))
    var names: [String] = []

    @Option(help: ArgumentHelp("Run the scenarios with this tag (repeat to require several).", valueName: "tag"))
    var tag: [String] = []

    @Option(help: ArgumentHelp("A suite file (JSON; docs/suite.md).", valueName: "suite.json"))
    var file: String?

    @Option(name: .customLong("repeat"), help: ArgumentHelp("Run each scenario N times (default 1).", valueName: "N"))
    var repeats: Int?

    @Option(help: ArgumentHelp("Wall-time budget for the suite, e.g. 30m.", valueName: "duration"))
    var budget: String?

    @Option(help: ArgumentHelp("Stop (and heal) a run that takes longer, e.g. 10m: a harness error.", valueName: "duration"))
    var scenarioTimeout: String?

    @Flag(inversion: .prefixedNo, help: "Run every scenario even after a failure (default: stop at the first).")
    var keepGoing: Bool?



    @Flag(help: "Print the plan (runs, estimated minimum wall time) and exit; touches nothing.")
    var dryRun = false

    @OptionGroup var scenarioOptions: ScenarioOptions

    @OptionGroup var env: EnvironmentOption

    @Option(help: ArgumentHelp("Log level: trace, debug, info, notice, warning, error.", valueName: "level"))
    var logLevel = "notice"

    func run() async throws {
        // Bad input: one line, exit 2, nothing touched.
        let level = try parseLogLevel(logLevel)
        var logger = Logger(label: "faultline.suite") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = level
        let suite: SuiteSession
        do {
            let request = SuiteRequest(tags: tag, scenarios: names.map { SuiteRequest.Entry($0) }, repeats: repeats,
                                       budget: try Self.duration(budget, "--budget"), scenarioTimeout: try Self.duration(scenarioTimeout, "--scenario-timeout"),
                                       keepGoing: keepGoing, overrides: scenarioOptions.overrides, abort: scenarioOptions.abort)
            suite = try SuiteSession.prepare(file: file, commandLine: request, environment: env.environment,
                                             reports: scenarioOptions.reportsURL, logger: logger)
        } catch {
            printError("faultline: \(error)")
            throw ExitCode(ExitStatus.badInput.rawValue)
        }
        if dryRun {
            FileDescriptorWriter.write(suite.plan.dryRunText(environment: env.environment), fd: 1)
            return
        }

        let interrupt = StopRequest()
        printError("faultline: suite \(suite.suiteId): \(suite.plan.entries.count) runs on \(env.environment) (Ctrl-C stops the current run, heals, and writes the summary)")
        let progress = ProgressLine(isTerminal: isatty(2) == 1)
        let result = await untilDone({
            try await suite.run(interrupt: interrupt, progress: { line in
                progress.finish()
                printError(line)
            }, onRunProgress: { progress.show($0) })
        }) {
            progress.finish()
            printError("faultline: interrupted: stopping the current run (it heals); the rest will not run")
            interrupt.request()
        }
        progress.finish()
        let outcome: SuiteSession.Outcome
        switch result {
        case .success(let o): outcome = o
        case .failure(let e): throw exitAfterFailure(e)
        }
        print(Self.summary(outcome.result))
        print("reports: \(outcome.directory.path)")
        if let e = outcome.writeError { printError("faultline: \(e)") }
        if outcome.exitCode != 0 { throw ExitCode(outcome.exitCode) }
    }

    /// A duration option, or a one-line `InputError`.
    static func duration(_ text: String?, _ option: String) throws(InputError) -> Duration? {
        guard let text else { return nil }
        guard let d = DurationText.parse(text), d > .zero else { throw InputError("\(option) '\(text)': expected a positive duration such as 30m or 90s") }
        return d
    }

    /// One line a scenario (statuses, flake rate), then the outcome.
    static func summary(_ s: SuiteResult) -> String {
        let width = s.scenarios.map(\.scenario.count).max() ?? 0
        var out = "\nsuite \(s.name): \(s.status) (exit \(s.exitCode)); \(s.ranCount) of \(s.runs.count) runs run in \(DurationText.human(ms: s.durationMs))\n"
        for x in s.scenarios {
            let d = x.distribution.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            out += "  \(x.scenario.padding(width))  \(d.isEmpty ? "not run" : d)" + (x.notRun > 0 && x.runs > 0 ? ", not run \(x.notRun)" : "")
                + (x.flaky ? "  FLAKY (flake rate \(percent(x.flakeRate)))" : "") + "\n"
        }
        if let why = s.runs.first(where: { !$0.ran })?.notRun { out += "  not run: \(why)\n" }
        return out
    }
}
