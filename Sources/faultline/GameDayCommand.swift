import ArgumentParser
import Faultline
import FaultlineConcurrency
import FaultlineEnvironments
import FaultlineReports
import FaultlineWiring
import Foundation
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `faultline gameday <scenario>`: a run led by a facilitator. Before: the plan, the participants, the hypotheses.
/// During: a gate before each step, a live view, notes and observations, abort. After: findings, action items, the
/// team's own hypotheses judged; gameday.md and gameday.html beside the run's report. The logic is in core (`GameDay`).
struct GameDayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gameday",
        abstract: "Run a scenario as a game day: plan and hypotheses, a gate before each step, a live view, notes, findings.",
        discussion: """
        Before the run: the plan step by step, the participants (or --participants "Ana,Ben") and the hypotheses (one
        per target the scenario judges, linked to its verdict; add your own, an empty answer moves on).
        During the run: each step waits for Enter (--auto: it goes on by itself). Keys: Enter next step, n note,
        o observation (typed, then Enter), a abort (heal now, exit 7), Ctrl-C stop (heal, as in `faultline run`).
        After the run: findings, action items ("owner: text"), and whether each hypothesis you typed held (y/n).
        Reports: <reports>/<run-id>/gameday.md, gameday.html, gameday.json, beside report.md and the rest.
        Without a terminal it needs --auto: the plan, plain progress lines, no waits, no prompts (for CI).

        Exit codes: as `faultline run`: 0 passed; 1 a target failed; 2 bad input; 3 harness or environment error; 7 aborted.
        """
    )

    @Argument(help: ArgumentHelp("Scenario name (see `faultline list`).", valueName: "scenario"))
    var name: String




    @Option(help: ArgumentHelp("Participants, comma-separated (else asked).", valueName: "names"))
    var participants: String?

    @Flag(help: "Go on at every step without waiting for Enter (without a terminal: no prompts either).")
    var auto = false

    @Flag(help: "The Before part only: the plan, participants and hypotheses; touches nothing.")
    var dryRun = false

    @OptionGroup var scenarioOptions: ScenarioOptions

    @OptionGroup var targetOption: TargetOption

    @OptionGroup var env: EnvironmentOption

    @Option(help: ArgumentHelp("Log level: trace, debug, info, notice, warning, error.", valueName: "level"))
    var logLevel = "warning"

    func run() async throws {
        // Bad input: one line, exit 2, nothing touched.
        let level = try parseLogLevel(logLevel)
        let interactive = isatty(0) == 1 && isatty(1) == 1
        guard interactive || auto else {
            printError("faultline: gameday needs a terminal (standard input is not one); --auto runs it without one")
            throw ExitCode(ExitStatus.badInput.rawValue)
        }
        let tail = LogTail()
        var logger = interactive ? Logger(label: "faultline.gameday") { _ in tail.handler(level: level) }
            : Logger(label: "faultline.gameday") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = level
        let session = try scenarioOptions.session(name, targets: targetOption, environment: env.environment, logger: logger)
        var record = GameDayRecord(scenario: session.scenario.name, runId: session.runId,
                                   participants: GameDayRecord.parseParticipants(participants ?? ""),
                                   hypotheses: GameDay.defaultHypotheses(session.scenario))
        let code: Int32
        if interactive {
            guard let raw = RawMode(fd: 0) else { throw ExitCode(ExitStatus.badInput.rawValue) }
            raw.enable()
            defer { raw.restore() }
            code = await Facilitated(session: session, auto: auto, dryRun: dryRun, askParticipants: participants == nil, tail: tail,
                                     environment: env.environment).run(&record)
        } else {
            code = await Self.plain(session, &record, dryRun: dryRun, environment: env.environment)
        }
        if code != 0 { throw ExitCode(code) }
    }

    /// Without a terminal (`--auto`): the plan, plain progress lines, no waits and no prompts; the reports.
    static func plain(_ session: RunSession, _ record: inout GameDayRecord, dryRun: Bool, environment: String) async -> Int32 {
        print(session.scenario.dryRunText(overrides: session.overrides, environment: environment), terminator: "")
        print("\nhypotheses:\n" + hypothesisLines(record).joined(separator: "\n"))
        if dryRun { return 0 }
        let progress = ProgressLine(isTerminal: false)
        let stop = StopRequest()
        let journal = RunJournal()
        printError("faultline: game day \(session.runId): \(session.scenario.name) on \(environment), --auto (Ctrl-C heals and stops)")
        let result = await untilDone({
            try await session.run(bringUp: true, stop: stop, hooks: RunHooks(journal: journal), onProgress: { progress.show($0) })
        }) {
            printError("faultline: interrupted: healing and stopping the load (the fault ledger keeps the rest)")
            stop.request()
        }
        progress.finish()
        record.journal = journal.entries
        return finish(result, &record, say: { print($0) })
    }

    /// The run's outcome: its summary, the game-day files, the exit code.
    static func finish(_ result: Result<RunSession.Outcome, any Error>, _ record: inout GameDayRecord, say: (String) -> Void) -> Int32 {
        let outcome: RunSession.Outcome
        switch result {
        case .success(let o): outcome = o
        case .failure(let e): return exitAfterFailure(e).rawValue
        }
        say(RunCommand.summary(outcome.report))
        if let e = outcome.reportError { printError("faultline: \(e)") }
        if let dir = outcome.reportDir {
            do {
                try ReportWriter.writeGameDay(record, outcome.report, into: dir)
                say("game day: \(dir.appendingPathComponent("gameday.md").path), gameday.html\nreports: \(dir.path)")
            } catch {
                printError("faultline: cannot write the game-day report under \(dir.path): \(describe(error))")
                return ExitStatus.harnessError.rawValue
            }
        }
        return outcome.exitCode
    }

    static func hypothesisLines(_ record: GameDayRecord) -> [String] {
        record.hypotheses.enumerated().map { i, h in "  H\(i + 1). \(h.text)" + (h.verdict.map { "  [verdict \($0)]" } ?? "  [the team judges]") }
    }
}

/// What flows into the facilitator's loop: keys (and signals, as Ctrl-C), step gates, redraw ticks, the run's end.
enum GameDayEvent: Sendable {
    case key(GameDayKey)
    case gate(Int)
    case tick
    case finished
}

/// The interactive game day on a terminal in raw mode: one event stream, read in order by the prompts and the live loop.
struct Facilitated {
    var session: RunSession
    var auto: Bool
    var dryRun: Bool
    var askParticipants: Bool
    var tail: LogTail
    var environment: String
    /// The notes and observations typed during the run.
    let journal = RunJournal()

    func run(_ record: inout GameDayRecord) async -> Int32 {
        let (events, sink) = AsyncStream<GameDayEvent>.makeStream(bufferingPolicy: .unbounded)
        let keys = KeyReader(fd: 0) { sink.yield(.key($0)) }
        defer { keys.stop() }
        return await withTaskGroup(of: Void.self) { group in
            // SIGINT/SIGTERM from outside count as Ctrl-C (which raw mode delivers as a key); SIGHUP (the ssh session or
            // the terminal went away) stops and heals the same way instead of killing the process mid-fault.
            group.addTask {
                for await e in Signals.interrupts(Signals.stopSignals + [SIGHUP]) {
                    sink.yield(.key(e.signal == SIGHUP ? .hangup : .interrupt))
                }
            }
            var input = events.makeAsyncIterator()
            let code = await session(&record, &input, sink)
            group.cancelAll()
            return code
        }
    }

    private func session(_ record: inout GameDayRecord, _ input: inout AsyncStream<GameDayEvent>.Iterator,
                         _ sink: AsyncStream<GameDayEvent>.Continuation) async -> Int32 {
        let s = session.scenario
        // Before.
        Screen.say("GAME DAY: \(s.name) on \(environment), run \(session.runId)\n")
        Screen.say(s.dryRunText(overrides: session.overrides, environment: environment)
            .replacingOccurrences(of: "dry run, nothing is touched", with: "the plan"))
        if askParticipants {
            guard let line = await prompt("\nParticipants (comma-separated; Enter: none named): ", &input) else { return quit() }
            record.participants = GameDayRecord.parseParticipants(line)
        } else {
            Screen.say("\nParticipants: \(record.participants.joined(separator: ", "))\n")
        }
        Screen.say("\nHypotheses (the scenario's targets; each is judged by its verdict):\n"
                   + GameDayCommand.hypothesisLines(record).joined(separator: "\n") + "\n")
        while true {
            guard let line = await prompt("Add a hypothesis (Enter: done, the run starts): ", &input) else { return quit() }
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.isEmpty { break }
            record.hypotheses.append(Hypothesis(text))
        }
        if dryRun {
            Screen.say("\nDry run: nothing is touched. The game day would record:\n" + GameDayCommand.hypothesisLines(record).joined(separator: "\n") + "\n")
            return 0
        }

        // During.
        let result = await live(&input, sink)
        record.journal = journal.entries
        Screen.write(Screen.showCursor)

        // After.
        guard case .success = result else { return GameDayCommand.finish(result, &record, say: { Screen.say($0 + "\n") }) }
        Screen.say("\nThe run is over. Findings, action items, then your own hypotheses (an empty answer moves on).\n")
        var stopped = false
        while !stopped {
            guard let line = await prompt("Finding (Enter: done): ", &input) else { stopped = true; break }
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.isEmpty { break }
            record.findings.append(t)
        }
        while !stopped {
            guard let line = await prompt("Action item, owner: text (Enter: done): ", &input) else { stopped = true; break }
            guard let item = ActionItem.parse(line) else { break }
            record.actionItems.append(item)
        }
        for i in record.ownHypotheses where !stopped {
            guard let line = await prompt("Did H\(i + 1) hold? \"\(record.hypotheses[i].text)\" (y/n; Enter: not judged): ", &input) else {
                stopped = true; break
            }
            record.hypotheses[i].held = GameDayRecord.parseHeld(line)
        }
        return GameDayCommand.finish(result, &record, say: { Screen.say($0 + "\n") })
    }

    /// Before the run: Ctrl-C leaves, nothing touched.
    private func quit() -> Int32 {
        Screen.say("\nfaultline: game day left before the run; nothing was touched\n")
        return 130
    }

    /// One line typed at `text` (echoed here: raw mode echoes nothing); nil on Ctrl-C or Ctrl-D.
    private func prompt(_ text: String, _ input: inout AsyncStream<GameDayEvent>.Iterator) async -> String? {
        Screen.say(text)
        var editor = LineEditor()
        while let ev = await input.next() {
            guard case .key(let k) = ev else { continue }
            switch editor.handle(k) {
            case .editing(let echo): Screen.write(echo)
            case .entered(let line): Screen.write("\r\n"); return line
            case .interrupted: Screen.write("\r\n"); return nil
            }
        }
        return nil
    }

    /// The run with the live view: gates, keys, a redraw about four times a second.
    private func live(_ input: inout AsyncStream<GameDayEvent>.Iterator, _ sink: AsyncStream<GameDayEvent>.Continuation) async
        -> Result<RunSession.Outcome, any Error> {
        let latch = GateLatch(), stop = StopRequest(), journal = self.journal, tail = self.tail
        let feed = Locked(GameDayView.Feed())
        let result = Locked<Result<RunSession.Outcome, any Error>?>(nil)
        let hooks = RunHooks(stepGate: { i, _ in
            sink.yield(.gate(i))
            await latch.wait()
        }, journal: journal, liveDetail: true)
        var control = GameDayControl(auto: auto)
        let labels = GameDay.stepLabels(session.scenario)
        let session = self.session
        Screen.write(Screen.clearAll)
        return await withTaskGroup(of: Void.self) { group in
            group.addTask {
                let r: Result<RunSession.Outcome, any Error>
                do {
                    r = .success(try await session.run(bringUp: true, stop: stop, hooks: hooks,
                                                       onProgress: { p in feed.withLock { $0.update(p) } }))
                } catch { r = .failure(error) }
                result.withLock { $0 = r }
                sink.yield(.finished)
            }
            group.addTask {
                while !Task.isCancelled {
                    do { try await Task.sleep(for: .milliseconds(250)) } catch { return }
                    sink.yield(.tick)
                }
            }
            func draw() {
                let f = feed.value
                let size = Screen.size()
                let snap = GameDayView.Snapshot(scenario: session.scenario.name, runId: session.runId, progress: f.progress,
                                                runMs: journal.nowMs, phaseStartedMs: f.phaseStartedMs, steps: labels,
                                                control: control, notes: journal.entries, log: tail.recent)
                Screen.write(Screen.frame(GameDayView.lines(snap, width: size.width), height: size.height))
            }
            draw()
            loop: while let ev = await input.next() {
                let action: GameDayControl.Action
                switch ev {
                case .key(let k): action = control.keyPressed(k)
                case .gate(let i): action = control.gateReached(i)
                case .tick: action = .redraw
                case .finished:
                    _ = control.runFinished()
                    draw()
                    break loop
                }
                switch action {
                case .none: continue loop
                case .redraw: break
                case .proceed: latch.open()
                case .addNote(let t): journal.add(.note, t)
                case .addObservation(let t): journal.add(.observation, t)
                case .abort(let why): stop.abort(why)
                case .stop: stop.request()
                }
                draw()
            }
            group.cancelAll()
            return result.value ?? .failure(WiringError("the run ended without a result"))
        }
    }
}

/// A value shared between the live loop and the run's tasks.
final class Locked<Value: Sendable>: Sendable {
    private let m: Mutex<Value>
    init(_ v: Value) { m = Mutex(v) }
    func withLock<R>(_ body: (inout Value) -> R) -> R { m.withLock { body(&$0) } }
    var value: Value { m.withLock { $0 } }
}
