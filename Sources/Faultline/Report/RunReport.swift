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

    /// The report of a judged run. The verdicts come from `judgement`; the report computes nothing.
    public init(runId: String, scenario: Scenario, overrides: [String] = [], environment: String, startedAt: String,
                durationMs: Int, observations: Observations, judgement: Judgement) {
        self.schemaVersion = Self.currentSchemaVersion
        self.runId = runId
        self.scenario = scenario
        self.overrides = overrides
        self.environment = environment
        self.startedAt = startedAt
        self.durationMs = durationMs
        self.observations = observations
        self.verdicts = judgement.verdicts
        self.recovery = judgement.recovery
        self.exitCode = judgement.exitStatus.rawValue
        self.status = judgement.status
    }

    public var exitStatus: ExitStatus { ExitStatus(rawValue: exitCode) ?? .harnessError }
}
