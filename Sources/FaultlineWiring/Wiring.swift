import Faultline
import FaultlineEnvironments
import FaultlineLoad
import FaultlineReports
import Foundation
import Logging
import Scenarios

// WIRING: the one place a run meets a real environment driver and the load generator. The CLI (`run`,
// `heal`, `env`, `load`) and every integration test go through it.

/// Catalogue scenario `name` with its `--set` overrides and `--abort` conditions applied, or a one-line `InputError`.
public func resolveScenario(name: String, overrides: [String], abort: [String] = []) throws(InputError) -> Scenario {
    let s = try Catalogue.lookup(name).applying(try ParameterOverride.parseAll(overrides))
        .addingAbortConditions(try AbortCondition.parseAll(abort))
    if let problem = s.problems().first { throw InputError("scenario '\(name)' after --set: \(problem)") }
    return s
}

/// What a caller adds to a run beyond the scenario: a game day's step gate, notes and live view.
public struct RunHooks: Sendable {
    /// Awaited before each step (`Runner.stepGate`).
    public var stepGate: (@Sendable (Int, Step) async -> Void)?
    /// Notes typed during the run (`Runner.journal`).
    public var journal: RunJournal?
    /// The whole topology and the alerts in every progress report (`Runner.liveDetail`).
    public var liveDetail: Bool

    public init(stepGate: (@Sendable (Int, Step) async -> Void)? = nil, journal: RunJournal? = nil, liveDetail: Bool = false) {
        self.stepGate = stepGate
        self.journal = journal
        self.liveDetail = liveDetail
    }
}

/// The driver called `name` (a one-line `InputError` naming the known ones otherwise), with the checkout
/// found as `FaultlineHome` finds it and the state directory `stateDir` (nil: `FAULTLINE_STATE_DIR`, else the driver's default).
public func environmentDriver(_ name: String, stateDir: String? = nil, logger: Logger) throws(InputError) -> any EnvironmentDriver {
    try Drivers.make(name, DriverContext(home: (try? FaultlineHome.locate()) ?? "", stateDir: stateDir, logger: logger))
}

/// One run of one scenario, from its resolved input to its written report: the one run path.
///
/// `prepare` resolves the scenario and its `--set` overrides and finds the driver, touching nothing;
/// `run` brings the environment up if asked, builds the load driver and the persisted fault ledger,
/// runs the runner, judges the observations once and writes the reports.
public struct RunSession: Sendable {
    public let scenario: Scenario
    public let overrides: [String]
    public let driver: any EnvironmentDriver
    public let runId: String
    /// Where `<run-id>/` goes; nil: no report files (the report is still returned).
    public let reportsRoot: URL?
    public let logger: Logger
    /// What `--target` named explicitly: members or addresses beyond the environment's blast radius (`Runner.allowedTargets`).
    public var allowedTargets: Set<String> = []

    /// Everything a run needs, resolved before anything is touched; bad input is a one-line `InputError`.
    public static func prepare(scenario name: String, overrides: [String] = [], abort: [String] = [], targets: [String] = [],
                               environment: String = "local", stateDir: String? = nil, reports: URL?, runId: String? = nil,
                               logger: Logger) throws(InputError) -> RunSession {
        let scenario = try resolveScenario(name: name, overrides: overrides, abort: abort)
        let driver = try environmentDriver(environment, stateDir: stateDir, logger: logger)
        var session = RunSession(scenario: scenario, overrides: overrides, driver: driver,
                                 runId: runId ?? Self.runId(scenario: scenario.name, at: Date()), reportsRoot: reports, logger: logger)
        session.allowedTargets = Set(targets)
        return session
    }

    /// What a run gave.
    public struct Outcome: Sendable {
        public var report: RunReport
        /// The report directory, when reports were written.
        public var reportDir: URL?
        /// Why the reports could not be written (the run itself still counts).
        public var reportError: String?
        public var exitCode: Int32 { reportError == nil ? report.exitCode : ExitStatus.harnessError.rawValue }
    }

    /// Runs the scenario. Throws before the run only (environment not up and `bringUp` false, bring-up failed,
    /// no endpoints); from then on every failure is in the report. `stop` is Ctrl-C: the run heals and stops.
    public func run(bringUp: Bool = false, stop: StopRequest = StopRequest(), hooks: RunHooks = RunHooks(),
                    onProgress: @escaping @Sendable (RunProgress) -> Void = { _ in }) async throws -> Outcome {
        if bringUp { try await bringUpIfNeeded(driver) } else if !(try await driver.isUp()) { throw EnvironmentError.notUp(driver.name) }
        let env = try driver.runnerEnvironment()
        let endpoints = try driver.endpoints()
        let metrics = endpoints.loadMetricsListen
        // Writes through the pooler (`WritesThrough(.pooler)`, `--set writes-via=pooler`): the ledger writes and the service
        // probe connect to PgBouncer; the writes are read back on the read-write endpoint. Their statement deadline is
        // then 15 s, above PgBouncer's `query_wait_timeout` (10 s): a client behind a paused pooler waits, and the pooler,
        // not the client, says when a wait is too long (docs/rto.md, "The pooler during a switchover").
        let writes: String, viaPooler = scenario.writesVia == .pooler
        if viaPooler {
            guard let pooler = endpoints.pooler else {
                throw EnvironmentError.badConfig("\(scenario.name) writes through the pooler, and environment \(driver.name) has none; run it with --set writes-via=direct")
            }
            writes = pooler
        } else {
            writes = endpoints.readWrite
        }
        let load = LoadGeneratorDriver(endpoints: .init(writes: writes, reads: endpoints.readOnly, verify: endpoints.readWrite,
                                                        application: endpoints.application), logger: logger,
                                       tune: { c in
                                           c.metricsListen = metrics
                                           if viaPooler { c.statementTimeout = .seconds(15) }
                                       })
        let ledger = JSONFileFaultLedger(url: driver.faultLedgerURL)
        var runner = Runner(environment: env, load: load, ledger: ledger, clock: ContinuousClock(), runId: runId,
                            logger: logger, stop: stop, onProgress: onProgress)
        runner.stepGate = hooks.stepGate
        runner.journal = hooks.journal
        runner.liveDetail = hooks.liveDetail
        runner.allowedTargets = allowedTargets
        let started = Date()
        let observations = await runner.run(scenario)
        let report = RunReport(runId: runId, scenario: scenario, overrides: overrides, environment: driver.name,
                               startedAt: Self.iso8601(started), durationMs: Int(Date().timeIntervalSince(started) * 1_000),
                               observations: observations, judgement: Judgement(scenario, observations))
        var outcome = Outcome(report: report)
        if let root = reportsRoot {
            do {
                outcome.reportDir = try ReportWriter.write(report, commands: await env.commandLog(), under: root)
            } catch {
                outcome.reportError = "cannot write reports under \(root.path): \(describe(error))"
            }
        }
        return outcome
    }

    /// `<scenario>-<yyyyMMdd-HHmmss>Z`, UTC.
    public static func runId(scenario: String, at date: Date) -> String {
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

/// The one heal, for a driver: every fault left in its persisted ledger undone newest first, then the full
/// heal (`LedgerHeal`); throws when the heal failed (the entries then stay), with the topology after it otherwise.
public func healEnvironment(_ driver: any EnvironmentDriver, log: (String) -> Void = { _ in }) async throws
    -> (report: LedgerHeal.Report, topology: Topology) {
    let env = try driver.runnerEnvironment()
    let report = await LedgerHeal.run(ledger: JSONFileFaultLedger(url: driver.faultLedgerURL), environment: env, log: log)
    for n in report.notes { log(n) }
    if let f = report.failure { throw EnvironmentError.unhealthy("heal failed: \(f)") }
    return (report, try await env.topology())
}

/// The Faultline checkout (where `environments/local` is): `FAULTLINE_HOME`, else found upwards from the
/// executable or the working directory.
public enum FaultlineHome {
    public static func locate() throws -> String {
        let fm = FileManager.default
        if let h = ProcessInfo.processInfo.environment["FAULTLINE_HOME"] { return h }
        var starts = [fm.currentDirectoryPath]
        if let exe = try? fm.destinationOfSymbolicLink(atPath: "/proc/self/exe") { starts.insert(exe, at: 0) }
        for s in starts {
            var dir = URL(fileURLWithPath: s)
            while dir.path != "/" {
                if fm.fileExists(atPath: dir.appendingPathComponent("environments/local/patroni.yml.tmpl").path) { return dir.path }
                dir.deleteLastPathComponent()
            }
        }
        throw EnvironmentError.requirementMissing("the Faultline checkout (environments/local); set FAULTLINE_HOME")
    }
}
