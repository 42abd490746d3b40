import Faultline
import FaultlineEnvironments
import FaultlineReports
import Foundation
import Logging
import Scenarios

// WIRING: the loop that runs a suite's plan against a real environment, one `RunSession` a run. The decisions (heal
// first, budget, stop at the first failure, not run) are the core's `SuiteProgress`; this file only performs them.

/// A suite, from its resolved plan to its written summary (`faultline suite`; docs/suite.md).
public struct SuiteSession: Sendable {
    public let plan: SuitePlan
    public let suiteId: String
    public let driver: any EnvironmentDriver
    public let environment: String
    public let stateDir: String?
    /// `<reports>/<suite-id>/`: the summary files, and each run's report folder below it.
    public let directory: URL
    public let logger: Logger

    /// Everything the suite needs, resolved before anything is touched: the suite file read and decoded, the plan made
    /// and checked (`SuitePlanner`), the driver found. Bad input is a one-line `InputError`.
    public static func prepare(file: String? = nil, commandLine: SuiteRequest, environment: String = "local", stateDir: String? = nil,
                               reports: URL, suiteId: String? = nil, logger: Logger) throws(InputError) -> SuiteSession {
        let fromFile = try file.map { path throws(InputError) in try loadSuiteFile(path) }
        let plan = try SuitePlanner.plan(file: fromFile, commandLine: commandLine, catalogue: Catalogue.all)
        let driver = try environmentDriver(environment, stateDir: stateDir, logger: logger)
        let id = suiteId ?? RunSession.runId(scenario: plan.name, at: Date())
        return SuiteSession(plan: plan, suiteId: id, driver: driver, environment: environment, stateDir: stateDir,
                            directory: reports.appendingPathComponent(id, isDirectory: true), logger: logger)
    }

    /// A suite file (JSON, `SuiteRequest`), or a one-line `InputError` naming the field that does not parse.
    public static func loadSuiteFile(_ path: String) throws(InputError) -> SuiteRequest {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw InputError("suite file \(path): cannot be read (\(FileManager.default.fileExists(atPath: path) ? "permission or I/O error" : "no such file"))")
        }
        do { return try JSONDecoder().decode(SuiteRequest.self, from: data) } catch {
            throw InputError(SuiteRequest.describe(error, file: path))
        }
    }

    /// What a suite gave.
    public struct Outcome: Sendable {
        public var result: SuiteResult
        /// Each run's report, by its position in the plan.
        public var reports: [Int: RunReport]
        public var directory: URL
        /// Why the summary could not be written (the runs still count).
        public var writeError: String?
        public var exitCode: Int32 { writeError == nil ? result.exitCode : ExitStatus.worst([result.exitStatus, .harnessError]).rawValue }
    }

    /// Runs the plan. Brings the environment up once when it is not up (throws only then, before any run); then every
    /// run's outcome, a failed heal between runs included, is in the result. `interrupt` is Ctrl-C: the current run
    /// stops and heals, the rest are not run, the summary is still written (it is rewritten after every run too).
    /// `progress` gets one line a run (`[3/12] kill-primary (run 1 of 2): passed in 1 m 52 s`).
    public func run(interrupt: StopRequest = StopRequest(), progress: @escaping @Sendable (String) -> Void = { _ in },
                    onRunProgress: @escaping @Sendable (RunProgress) -> Void = { _ in }) async throws -> Outcome {
        let clock = ContinuousClock()
        let start = clock.now
        let startedAt = Date()
        try await bringUpIfNeeded(driver)
        var state = SuiteProgress(plan: plan)
        var reports: [Int: RunReport] = [:]
        var writeError: String?
        let total = plan.entries.count
        func elapsedMs() -> Int { start.duration(to: clock.now).milliseconds }
        func save() {
            let r = state.result(suiteId: suiteId, environment: environment, startedAt: RunSession.iso8601(startedAt), durationMs: elapsedMs())
            do { try SuiteReportWriter.write(r, reports: reports, to: directory); writeError = nil } catch {
                writeError = "cannot write the suite summary under \(directory.path): \(describe(error))"
            }
        }

        loop: while true {
            if interrupt.isRequested, !state.interrupted { state.interrupt() }
            switch state.next(elapsed: start.duration(to: clock.now)) {
            case .finished:
                break loop
            case .run(let index, let entry, let healFirst):
                let position = index + 1
                let head = "[\(position)/\(total)] \(entry.label)"
                let runStart = clock.now
                if healFirst {
                    progress("\(head): healing and checking health first")
                    if let problem = await healBetweenRuns(entry) {
                        let run = SuiteResult.Run.harnessError(position: position, entry: entry, problem, durationMs: runStart.duration(to: clock.now).milliseconds)
                        state.record(run)
                        progress("\(head): harness-error: \(SecretMasker.mask(problem))")
                        save()
                        continue loop
                    }
                    if interrupt.isRequested { continue loop }
                }
                progress("\(head): starting")
                let run = await runOne(entry, position: position, interrupt: interrupt, onRunProgress: onRunProgress)
                if let r = run.report { reports[position] = r }
                state.record(run.result)
                if run.interrupted { state.interrupt() }
                let took = DurationText.human(ms: runStart.duration(to: clock.now).milliseconds)
                progress("\(head): \(run.result.status) in \(took)" + (run.result.error.map { ": \($0)" } ?? ""))
                save()
            }
        }
        save()
        let result = state.result(suiteId: suiteId, environment: environment, startedAt: RunSession.iso8601(startedAt), durationMs: elapsedMs())
        return Outcome(result: result, reports: reports, directory: directory, writeError: writeError)
    }

    /// The one heal (`healEnvironment`) and the health of the cluster after it against the next scenario's shape; the
    /// problem when either fails, nil when the cluster is ready.
    func healBetweenRuns(_ entry: SuitePlan.Entry) async -> String? {
        do {
            let (_, topology) = try await healEnvironment(driver) { logger.info("suite heal: \($0)") }
            let shape = (try? resolveScenario(name: entry.scenario, overrides: entry.overrides, abort: entry.abort).expectedShape)
                ?? ClusterShape(members: 3, sync: 1)
            let problems = topology.health(against: shape)
            if !problems.isEmpty {
                return "not healthy after the heal before this run: " + problems.map { "\($0)" }.joined(separator: "; ")
            }
            return nil
        } catch {
            return "the heal before this run failed: \(describe(error))"
        }
    }

    struct OneRun: Sendable {
        var result: SuiteResult.Run
        var report: RunReport?
        var interrupted: Bool
    }

    /// How a raced run ended.
    enum Ending: Sendable {
        case finished(Result<RunSession.Outcome, any Error>)
        case timeout
        case interrupted
    }

    /// One run through `RunSession`, raced against the scenario timeout and Ctrl-C: either asks the run to stop (its own
    /// `StopRequest`), and the run is awaited to its end: it heals on the way out.
    func runOne(_ entry: SuitePlan.Entry, position: Int, interrupt: StopRequest,
                onRunProgress: @escaping @Sendable (RunProgress) -> Void) async -> OneRun {
        let session: RunSession
        do {
            session = try RunSession.prepare(scenario: entry.scenario, overrides: entry.overrides, abort: entry.abort, environment: environment,
                                             stateDir: stateDir, reports: directory,
                                             runId: "\(RunSession.runId(scenario: entry.scenario, at: Date()))-\(position)", logger: logger)
        } catch {
            // The plan checked every entry already: only a change under our feet gets here.
            return OneRun(result: .harnessError(position: position, entry: entry, error.message), report: nil, interrupted: false)
        }
        let stop = StopRequest()
        let limit = plan.scenarioTimeout
        let clock = ContinuousClock()
        let started = clock.now
        let (result, timedOut, interrupted) = await withTaskGroup(of: Ending?.self) { group in
            group.addTask {
                do { return .finished(.success(try await session.run(bringUp: false, stop: stop, onProgress: onRunProgress))) }
                catch { return .finished(.failure(error)) }
            }
            if let limit {
                group.addTask {
                    do { try await Task.sleep(for: limit, clock: .continuous) } catch { return nil }
                    return .timeout
                }
            }
            group.addTask {
                await interrupt.wait()
                return Task.isCancelled ? nil : .interrupted
            }
            var result: Result<RunSession.Outcome, any Error>?
            var timedOut = false, interrupted = false
            while let next = await group.next() {
                switch next {
                case .finished(let r)?:
                    result = r
                    group.cancelAll()
                case .timeout? where result == nil:
                    if !interrupted { timedOut = true }
                    stop.request()
                case .interrupted? where result == nil:
                    interrupted = true
                    stop.request()
                default:
                    break
                }
            }
            return (result ?? .failure(WiringFailure("the run ended without a result")), timedOut, interrupted)
        }
        let ms = started.duration(to: clock.now).milliseconds
        switch result {
        case .success(let o):
            if timedOut, let limit {
                return OneRun(result: .timedOut(position: position, entry: entry, after: limit, durationMs: ms, runId: o.report.runId,
                                                reportDir: o.reportDir?.path), report: o.report, interrupted: interrupted)
            }
            return OneRun(result: .completed(position: position, entry: entry, report: o.report, reportDir: o.reportDir?.path, reportError: o.reportError),
                          report: o.report, interrupted: interrupted)
        case .failure(let e):
            let message = (e as? EnvironmentError)?.description ?? describe(e)
            return OneRun(result: .harnessError(position: position, entry: entry, message, durationMs: ms), report: nil, interrupted: interrupted)
        }
    }
}

/// Brings `driver`'s environment up when it is not, saying so on standard error (`faultline run`, `suite`, `gameday`).
func bringUpIfNeeded(_ driver: any EnvironmentDriver) async throws {
    guard !(try await driver.isUp()) else { return }
    FileHandle.standardError.write(Data("faultline: the \(driver.name) environment is not up; bringing it up…\n".utf8))
    let up = try await driver.up(UpSettings())
    FileHandle.standardError.write(Data(String(format: "faultline: \(driver.name) environment healthy after %.1f s\n",
                                               Double(up.elapsed.milliseconds) / 1_000).utf8))
}

struct WiringFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
