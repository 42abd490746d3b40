/// Everything about one suite, as written to `summary.json` (and rendered as summary.md, summary.html and junit.xml).
/// Computed from the runs alone: the per-scenario distributions and the exit status are derived at `init`.
public struct SuiteResult: Codable, Sendable, Equatable {
    public static let currentSchemaVersion = 1

    /// One planned run: what it gave, or why it did not run.
    public struct Run: Codable, Sendable, Equatable {
        /// 1-based place in the plan.
        public var position: Int
        public var scenario: String
        public var attempt: Int
        public var attempts: Int
        public var overrides: [String]
        public var abort: [String]
        /// The run's status (`passed`, `skipped`, `target-failed`, `aborted`, `harness-error`), `timed-out`, or `not-run`.
        public var status: String
        /// nil when it did not run.
        public var exitCode: Int32?
        /// How many verdicts had each status (`passed`, `failed`, `skipped`, `error`, `aborted`).
        public var verdicts: [String: Int]
        public var durationMs: Int
        public var runId: String?
        /// The run's own report folder, when written.
        public var reportDir: String?
        /// Why it did not run (budget exhausted, stopped at the first failure, interrupted).
        public var notRun: String?
        /// The harness error that is this run's outcome (a failed heal before it, a timeout, reports not written), masked.
        public var error: String?

        public static let timedOut = "timed-out"
        public static let notRunStatus = "not-run"

        public init(position: Int, entry: SuitePlan.Entry, status: String, exitCode: Int32?, verdicts: [String: Int] = [:],
                    durationMs: Int = 0, runId: String? = nil, reportDir: String? = nil, notRun: String? = nil, error: String? = nil) {
            self.position = position
            self.scenario = entry.scenario
            self.attempt = entry.attempt
            self.attempts = entry.attempts
            self.overrides = entry.overrides
            self.abort = entry.abort
            self.status = status
            self.exitCode = exitCode
            self.verdicts = verdicts
            self.durationMs = durationMs
            self.runId = runId
            self.reportDir = reportDir
            self.notRun = notRun
            self.error = error.map(SecretMasker.mask)
        }

        /// A run that ended with its report: its status and exit code; a report that could not be written is a harness error.
        public static func completed(position: Int, entry: SuitePlan.Entry, report: RunReport, reportDir: String?, reportError: String?) -> Run {
            var counts: [String: Int] = [:]
            for v in report.verdicts { counts[v.result.status.rawValue, default: 0] += 1 }
            return Run(position: position, entry: entry, status: reportError == nil ? report.status : ExitStatus.harnessError.name,
                       exitCode: reportError == nil ? report.exitCode : ExitStatus.harnessError.rawValue, verdicts: counts,
                       durationMs: report.durationMs, runId: report.runId, reportDir: reportDir, error: reportError)
        }

        /// A run stopped at the per-scenario timeout (then healed on its way out): a harness error.
        public static func timedOut(position: Int, entry: SuitePlan.Entry, after limit: Duration, durationMs: Int, runId: String?, reportDir: String?) -> Run {
            Run(position: position, entry: entry, status: timedOut, exitCode: ExitStatus.harnessError.rawValue, durationMs: durationMs,
                runId: runId, reportDir: reportDir,
                error: "did not finish within the scenario timeout of \(DurationText.format(limit)): stopped and healed")
        }

        /// A run that could not happen for the harness's fault (the heal before it failed, the run threw): a harness error.
        public static func harnessError(position: Int, entry: SuitePlan.Entry, _ message: String, durationMs: Int = 0) -> Run {
            Run(position: position, entry: entry, status: ExitStatus.harnessError.name, exitCode: ExitStatus.harnessError.rawValue,
                durationMs: durationMs, error: message)
        }

        public static func notRun(position: Int, entry: SuitePlan.Entry, _ why: String) -> Run {
            Run(position: position, entry: entry, status: notRunStatus, exitCode: nil, notRun: why)
        }

        public var ran: Bool { exitCode != nil }
        public var exitStatus: ExitStatus? { exitCode.map { ExitStatus(rawValue: $0) ?? .harnessError } }
        public var isTimeout: Bool { status == Self.timedOut }
        public var label: String { attempts > 1 ? "\(scenario) (run \(attempt) of \(attempts))" : scenario }
    }

    /// One scenario over its runs.
    public struct ScenarioSummary: Codable, Sendable, Equatable {
        public var scenario: String
        /// Runs that ran (not-run ones excluded).
        public var runs: Int
        public var notRun: Int
        /// How many runs ended with each status.
        public var distribution: [String: Int]
        /// 1 − (count of the most common status) / runs; 0 for no runs.
        public var flakeRate: Double
        /// More than one distinct status among its runs.
        public var flaky: Bool
        /// The most common status (a tie: the first by name, for stable output); nil for no runs.
        public var mostCommon: String?
        public var worstExitCode: Int32?

        public init(scenario: String, runs: [Run]) {
            self.scenario = scenario
            let ran = runs.filter(\.ran)
            self.runs = ran.count
            self.notRun = runs.count - ran.count
            var d: [String: Int] = [:]
            for r in ran { d[r.status, default: 0] += 1 }
            self.distribution = d
            let top = d.max { ($0.value, $1.key) < ($1.value, $0.key) }
            self.mostCommon = top?.key
            self.flakeRate = ran.isEmpty ? 0 : 1 - Double(top?.value ?? 0) / Double(ran.count)
            self.flaky = d.count > 1
            self.worstExitCode = ran.isEmpty ? nil : ExitStatus.worst(ran.compactMap(\.exitStatus)).rawValue
        }
    }

    public var schemaVersion: Int
    public var suiteId: String
    public var name: String
    public var environment: String
    /// ISO 8601 UTC.
    public var startedAt: String
    public var durationMs: Int
    public var budgetMs: Int?
    public var scenarioTimeoutMs: Int?
    public var keepGoing: Bool
    /// Ctrl-C stopped the suite.
    public var interrupted: Bool
    public var runs: [Run]
    /// In the order of their first run.
    public var scenarios: [ScenarioSummary]
    /// The worst exit code of the runs that ran (`ExitStatus.worst`); 0 when none ran.
    public var exitCode: Int32
    public var status: String

    public init(suiteId: String, plan: SuitePlan, environment: String, startedAt: String, durationMs: Int, runs: [Run], interrupted: Bool = false) {
        self.schemaVersion = Self.currentSchemaVersion
        self.suiteId = suiteId
        self.name = plan.name
        self.environment = environment
        self.startedAt = startedAt
        self.durationMs = durationMs
        self.budgetMs = plan.budget?.milliseconds
        self.scenarioTimeoutMs = plan.scenarioTimeout?.milliseconds
        self.keepGoing = plan.keepGoing
        self.interrupted = interrupted
        self.runs = runs
        var names: [String] = []
        for r in runs where !names.contains(r.scenario) { names.append(r.scenario) }
        self.scenarios = names.map { n in ScenarioSummary(scenario: n, runs: runs.filter { $0.scenario == n }) }
        let worst = ExitStatus.worst(runs.compactMap(\.exitStatus))
        self.exitCode = worst.rawValue
        self.status = worst.name
    }

    public var exitStatus: ExitStatus { ExitStatus(rawValue: exitCode) ?? .harnessError }
    public var ranCount: Int { runs.filter(\.ran).count }
    public var notRunCount: Int { runs.count - ranCount }
}
