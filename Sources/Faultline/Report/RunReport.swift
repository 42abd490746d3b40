/// Everything about one run, as written to `report.json` (schema: docs/reports.md). Renderers take this.
public struct RunReport: Codable, Sendable, Equatable {
    public static let currentSchemaVersion = 1

    public var schemaVersion: Int
    public var runId: String
    /// The scenario as run (after `--set`).
    public var scenario: Scenario
    /// The `--set` arguments as given.
    public var overrides: [String]
    public var environment: String
    /// ISO 8601 UTC, from the caller's wall clock.
    public var startedAt: String
    public var durationMs: Int
    public var exitCode: Int32
    public var status: String
    public var verdicts: [Verdict]
    public var recovery: RecoveryAnalysis?
    public var observations: Observations

    public init(runId: String, scenario: Scenario, overrides: [String] = [], environment: String, startedAt: String,
                durationMs: Int, observations: Observations) {
        self.schemaVersion = Self.currentSchemaVersion
        self.runId = runId
        self.scenario = scenario
        self.overrides = overrides
        self.environment = environment
        self.startedAt = startedAt
        self.durationMs = durationMs
        self.observations = observations
        self.verdicts = Assertions.evaluate(scenario, observations)
        self.recovery = RecoveryAnalysis.analyze(observations, sustain: scenario.targets.sustain)
        let exit = ExitStatus.of(verdicts)
        self.exitCode = exit.rawValue
        self.status = Self.status(of: verdicts)
    }

    /// The run's one-word status: the exit status's name, except that a run whose every verdict was
    /// skipped (a fault this kernel cannot inject) is "skipped", never "passed". Its exit code stays 0:
    /// nothing failed.
    public static func status(of verdicts: [Verdict]) -> String {
        if !verdicts.isEmpty, verdicts.allSatisfy({ $0.result.status == .skipped }) { return "skipped" }
        return ExitStatus.of(verdicts).name
    }

    public var exitStatus: ExitStatus { ExitStatus(rawValue: exitCode) ?? .harnessError }
}
