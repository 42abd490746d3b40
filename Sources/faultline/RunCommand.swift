import ArgumentParser
import Dispatch
import Faultline
import FaultlineConcurrency
import FaultlineEnvironments
import FaultlineReports
import FaultlineWiring
import Foundation
import Logging
import Scenarios
import Synchronization

/// `faultline run <scenario>`: runs one scenario against an environment and writes reports/<run-id>/.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a scenario: steady state, load on, inject, await, heal, settle, load off, verdicts.",
        discussion: """
        Parameters a scenario exposes can be overridden with --set key=value (repeatable):
          rto, settle, steady, sustain, await, p99, p99-during   durations: 500ms, 20s, 2m
          hold                                                   how long every Hold step keeps the fault
          observe                                                the load after the heal; 0s: none
          rate, write-rate, read-rate, lost-writes               whole numbers
          error-budget, error-budget-during                      ratios: 0.01 or 1%

        Ctrl-C stops the run: the faults are undone (heal) and the load stopped before faultline exits.
        If faultline itself is killed, the fault ledger (in the environment's state directory) keeps what to
        undo: `faultline heal` undoes it. The local environment is brought up first when it is not up.

        Reports: <reports>/<run-id>/report.json, report.md, junit.xml, timeline.jsonl, ledger.jsonl, commands.log.

        Exit codes: 0 every target met; 1 a target failed; 2 bad input; 3 harness or environment error.

        Examples:
          faultline run kill-primary --dry-run
          faultline run kill-primary --set rto=20s --set steady=5s
        """
    )

    @Argument(help: ArgumentHelp("Scenario name (see `faultline list`).", valueName: "scenario"))
    var name: String

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a parameter, key=value. Repeatable.", valueName: "key=value"))
    var overrides: [String] = []

    @Flag(help: "Print the plan and exit; touches nothing.")
    var dryRun = false

    @Option(help: ArgumentHelp("Environment driver.", valueName: "name"))
    var environment = "local"

    @Option(help: ArgumentHelp("Directory for reports (default: reports/ of the Faultline checkout).", valueName: "dir"))
    var reports = (try? FaultlineHome.locate()).map { "\($0)/reports" } ?? "reports"

    @Option(help: ArgumentHelp("Log level: trace, debug, info, notice, warning, error.", valueName: "level"))
    var logLevel = "notice"

    func run() async throws {
        // Bad input: one line, exit 2, nothing touched.
        let scenario: Scenario
        let level: Logger.Level
        do {
            scenario = try Self.resolve(name: name, overrides: overrides)
            guard let l = Logger.Level(rawValue: logLevel) else { throw InputError("--log-level '\(logLevel)': expected trace, debug, info, notice, warning or error") }
            level = l
        } catch {
            printError("faultline: \(error)")
            throw ExitCode(ExitStatus.badInput.rawValue)
        }

        if dryRun {
            FileDescriptorWriter.write(scenario.dryRunText(overrides: overrides, environment: environment), fd: 1)
            return
        }

        var logger = Logger(label: "faultline.run") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = level
        let env: any Environment, load: any LoadDriver
        do {
            env = try await makeEnvironment(name: environment, logger: logger, bringUp: true)
            load = try makeLoadDriver(for: scenario, environment: env, logger: logger)
        } catch let e as EnvironmentError {
            printError("faultline: \(e.description)")
            throw ExitCode(e.exitCode)
        } catch {
            printError("faultline: \(describe(error))")
            throw ExitCode(ExitStatus.harnessError.rawValue)
        }

        let started = Date()
        let runId = Self.runId(scenario: scenario.name, at: started)
        let root = URL(fileURLWithPath: reports, isDirectory: true)
        let ledger = JSONFileFaultLedger(url: faultLedgerURL(for: environment))
        let progress = ProgressLine(isTerminal: isatty(2) == 1)
        let runner = Runner(environment: env, load: load, ledger: ledger, clock: ContinuousClock(), runId: runId,
                            logger: logger, onProgress: { progress.show($0) })
        printError("faultline: run \(runId): \(scenario.name) on \(environment) (Ctrl-C heals and stops)")

        // Ctrl-C cancels the run; the runner heals and stops the load on the way out.
        let observations: Observations = await withTaskGroup(of: Observations?.self) { group in
            group.addTask { await runner.run(scenario) }
            group.addTask {
                _ = await Signals.firstInterrupt()
                return nil
            }
            var result: Observations?
            while let next = await group.next() {
                if let o = next { result = o; group.cancelAll() } else if result == nil {
                    progress.finish()
                    printError("faultline: interrupted: healing and stopping the load (the fault ledger keeps the rest)")
                    group.cancelAll()
                }
            }
            return result ?? Observations(harnessErrors: ["the run ended without observations"], cancelled: true)
        }
        progress.finish()

        let report = RunReport(runId: runId, scenario: scenario, overrides: overrides, environment: environment,
                               startedAt: Self.iso8601(started), durationMs: Int(Date().timeIntervalSince(started) * 1_000),
                               observations: observations)
        do {
            let dir = try ReportWriter.write(report, commands: await env.commandLog(), under: root)
            print(Self.summary(report))
            print("reports: \(dir.path)")
        } catch {
            print(Self.summary(report))
            printError("faultline: cannot write reports under \(root.path): \(describe(error))")
            throw ExitCode(ExitStatus.harnessError.rawValue)
        }
        if report.exitCode != 0 { throw ExitCode(report.exitCode) }
    }

    /// The scenario with `--set` applied, or a one-line `InputError`.
    static func resolve(name: String, overrides: [String]) throws(InputError) -> Scenario {
        try resolveScenario(name: name, overrides: overrides)
    }

    /// One line a verdict, then the outcome.
    static func summary(_ r: RunReport) -> String {
        let width = r.verdicts.map(\.title.count).max() ?? 0
        var out = "\n\(r.scenario.name): \(r.status) (exit \(r.exitCode))\n"
        for v in r.verdicts {
            let res = v.result
            var line = "  \(res.status.rawValue.uppercased().padding(7)) \(v.title.padding(width))"
            if let m = res.measured { line += "  \(m)" }
            if let t = res.target { line += " (target ≤ \(t))" }
            if res.status != .passed, let msg = res.message { line += "  \(SecretMasker.mask(msg))" }
            out += line + "\n"
        }
        return out
    }

    static func runId(scenario: String, at date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd-HHmmss"
        return "\(scenario)-\(f.string(from: date))Z"
    }

    static func iso8601(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: date)
    }
}

/// The live status line on standard error: rewritten in place on a terminal, one line per phase otherwise.
final class ProgressLine: Sendable {
    private struct State { var lastPhase: RunPhase?; var lastDrawMs = Int.min; var drawn = false }
    private let state = Mutex(State())
    let isTerminal: Bool

    init(isTerminal: Bool) { self.isTerminal = isTerminal }

    func show(_ p: RunProgress) {
        let text = Self.format(p)
        state.withLock { s in
            let phaseChanged = p.phase != s.lastPhase
            if isTerminal {
                guard phaseChanged || p.elapsedMs - s.lastDrawMs >= 250 else { return }
                if phaseChanged, s.drawn { FileDescriptorWriter.write("\n", fd: 2) }
                FileDescriptorWriter.write("\r\u{1B}[2K" + text, fd: 2)
                s.drawn = true
            } else {
                guard phaseChanged || p.elapsedMs - s.lastDrawMs >= 5_000 else { return }
                FileDescriptorWriter.write(text + "\n", fd: 2)
            }
            s.lastPhase = p.phase
            s.lastDrawMs = p.elapsedMs
        }
    }

    func finish() {
        state.withLock { s in
            if isTerminal, s.drawn { FileDescriptorWriter.write("\n", fd: 2) }
            s.drawn = false
        }
    }

    /// `[  23.4 s] await         ok 398/s  err 12/s (240 errors)  n1=down n2=primary/tl2 n3=sync_standby/tl2`
    static func format(_ p: RunProgress) -> String {
        let t = "\(p.elapsedMs / 1_000).\(p.elapsedMs % 1_000 / 100) s"
        var line = "[\(String(repeating: " ", count: max(0, 8 - t.count)))\(t)] \(p.phase.rawValue.padding(12))"
        if let l = p.load {
            line += "  ok \(Int(l.okPerSecond.rounded()))/s  err \(Int(l.errorsPerSecond.rounded()))/s (\(l.totalErrors) errors)"
        }
        if let topo = p.topology { line += "  \(topo)" }
        return line
    }
}

/// Raw writes to a file descriptor (stderr progress must not wait for stdout buffering).
enum FileDescriptorWriter {
    static func write(_ s: String, fd: Int32) {
        var bytes = Array(s.utf8)
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Foundation.write(fd, $0.baseAddress! + off, $0.count - off) }
            if n <= 0 { return }
            off += n
        }
    }
}
