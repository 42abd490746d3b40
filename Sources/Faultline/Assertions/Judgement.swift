/// The judgement of one run, computed once from the scenario and what was observed: the verdicts, the
/// recovery analysis they rest on, the exit status and the one-word status. The report holds it; it
/// computes nothing itself.
public struct Judgement: Sendable, Equatable {
    public var verdicts: [Verdict]
    public var recovery: RecoveryAnalysis?
    public var exitStatus: ExitStatus
    /// The exit status's name, except that a run whose every verdict was skipped (a fault this kernel cannot
    /// inject) is "skipped", never "passed". Its exit code stays 0: nothing failed.
    public var status: String

    public init(_ scenario: Scenario, _ observations: Observations) {
        let recovery = RecoveryAnalysis.analyze(observations, sustain: scenario.targets.sustain)
        self.init(verdicts: Assertions.verdicts(scenario, observations, recovery: recovery), recovery: recovery)
    }

    public init(verdicts: [Verdict], recovery: RecoveryAnalysis?) {
        self.verdicts = verdicts
        self.recovery = recovery
        self.exitStatus = ExitStatus.of(verdicts)
        self.status = Self.status(of: verdicts)
    }

    public static func status(of verdicts: [Verdict]) -> String {
        if !verdicts.isEmpty, verdicts.allSatisfy({ $0.result.status == .skipped }) { return "skipped" }
        return ExitStatus.of(verdicts).name
    }
}
