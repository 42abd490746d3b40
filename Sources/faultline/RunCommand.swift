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
          rto-judges                                             service (default: the 20 ms probe) or application

        Ctrl-C stops the run: the faults are undone (heal) and the load stopped before faultline exits.
        If faultline itself is killed, the fault ledger (in the environment's state directory) keeps what to
        undo: `faultline heal` undoes it. The local environment is brought up first when it is not up.

        Reports: <reports>/<run-id>/report.json, report.md, report.html, junit.xml, timeline.jsonl, ledger.jsonl, commands.log.

        Safety: the steady-state hypothesis (the scenario's, else error rate ≤ 1 %, p99 ≤ 1 s, healthy; --set
        steady-error-rate=, steady-p99=) is checked before the first fault; --abort conditions are watched while the
        steps run. Either ends the run "aborted": healed at once, writes read back, exit 7. A fault on a member the
        environment did not create, or outside its subnet, is refused (aborted) unless named with --target.

        Exit codes: 0 nothing failed (every verdict passed, or skipped: status "skipped"); 1 a target failed (a cluster
        that did not recover after the heal included); 2 bad input; 3 harness or environment error; 7 aborted by a
        safety limit.

        Examples:
          faultline run kill-primary --dry-run
          faultline run kill-primary --set rto=20s --set steady=5s
        """
    )

    @Argument(help: ArgumentHelp("Scenario name (see `faultline list`).", valueName: "scenario"))
    var name: String




    @Flag(help: "Print the plan and exit; touches nothing.")
    var dryRun = false

    @OptionGroup var scenarioOptions: ScenarioOptions

    @OptionGroup var targetOption: TargetOption

    @OptionGroup var env: EnvironmentOption

    @Option(help: ArgumentHelp("Log level: trace, debug, info, notice, warning, error.", valueName: "level"))
    var logLevel = "notice"

    func run() async throws {
        // Bad input: one line, exit 2, nothing touched.
        let level = try parseLogLevel(logLevel)
        var logger = Logger(label: "faultline.run") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = level
        let session = try scenarioOptions.session(name, targets: targetOption, environment: env.environment, logger: logger)
        if dryRun {
            FileDescriptorWriter.write(session.scenario.dryRunText(overrides: scenarioOptions.overrides, environment: env.environment), fd: 1)
            return
        }

        let progress = ProgressLine(isTerminal: isatty(2) == 1)
        let stop = StopRequest()
        printError("faultline: run \(session.runId): \(session.scenario.name) on \(env.environment) (Ctrl-C heals and stops)")
        // Ctrl-C asks the run to stop; the runner heals and stops the load on the way out.
        let result = await untilDone({ try await session.run(bringUp: true, stop: stop, onProgress: { progress.show($0) }) }) {
            progress.finish()
            printError("faultline: interrupted: healing and stopping the load (the fault ledger keeps the rest)")
            stop.request()
        }
        progress.finish()
        let outcome: RunSession.Outcome
        switch result {
        case .success(let o): outcome = o
        case .failure(let e): throw exitAfterFailure(e)
        }
        print(Self.summary(outcome.report))
        if let dir = outcome.reportDir { print("reports: \(dir.path)") }
        if let e = outcome.reportError { printError("faultline: \(e)") }
        if outcome.exitCode != 0 { throw ExitCode(outcome.exitCode) }
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
}

struct WiringError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
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
