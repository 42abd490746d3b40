/// The suite as a value-type state machine: the loop that runs it (`SuiteSession`) asks `next(elapsed:)` what to do,
/// performs it and `record`s the outcome. It decides the heal between runs, the budget, the stop at the first failure
/// and what is marked not run; it never reads a clock (elapsed times are given), so it is tested on fixed inputs.
public struct SuiteProgress: Sendable, Equatable {
    public enum Next: Sendable, Equatable {
        /// Run the plan's entry at `index` (0-based); heal and check health first when `healFirst`.
        case run(index: Int, entry: SuitePlan.Entry, healFirst: Bool)
        /// Every entry is recorded (run or not run).
        case finished
    }

    public let plan: SuitePlan
    /// One a plan entry so far, in plan order.
    public private(set) var runs: [SuiteResult.Run] = []
    /// Why the remaining entries will not run, once decided.
    public private(set) var stopReason: String?
    public private(set) var interrupted = false

    public init(plan: SuitePlan) { self.plan = plan }

    public var isFinished: Bool { runs.count == plan.entries.count }

    /// What to do next, `elapsed` since the suite started. A stop (first failure, Ctrl-C) or a budget whose remainder
    /// does not cover the next run's minimum marks every remaining entry not run and finishes.
    public mutating func next(elapsed: Duration) -> Next {
        guard !isFinished else { return .finished }
        if let why = stopReason {
            markRest(why)
            return .finished
        }
        let i = runs.count
        let e = plan.entries[i]
        if let budget = plan.budget, elapsed + e.minimum > budget {
            let left = max(.zero, budget - elapsed)
            markRest("budget exhausted: \(DurationText.human(ms: left.milliseconds)) of \(DurationText.format(budget)) left, "
                     + "\(e.scenario) needs at least \(DurationText.human(ms: e.minimum.milliseconds))")
            return .finished
        }
        return .run(index: i, entry: e, healFirst: i > 0)
    }

    /// The outcome of the entry `next` handed out. Without keep-going, a run that did not exit 0 stops the suite.
    public mutating func record(_ run: SuiteResult.Run) {
        guard !isFinished else { return }
        runs.append(run)
        if !plan.keepGoing, stopReason == nil, let status = run.exitStatus, status != .passed {
            stopReason = "stopped at the first failure (\(run.label): \(run.status)); --keep-going runs the rest"
        }
    }

    /// Ctrl-C: the current run is stopped (and healed) by the caller; every entry not yet recorded will not run.
    public mutating func interrupt() {
        interrupted = true
        stopReason = "interrupted (Ctrl-C)"
    }

    private mutating func markRest(_ why: String) {
        for i in runs.count..<plan.entries.count {
            runs.append(.notRun(position: i + 1, entry: plan.entries[i], why))
        }
    }

    /// The suite so far (every entry recorded once `finished`; while running, the runs recorded).
    public func result(suiteId: String, environment: String, startedAt: String, durationMs: Int) -> SuiteResult {
        SuiteResult(suiteId: suiteId, plan: plan, environment: environment, startedAt: startedAt, durationMs: durationMs,
                    runs: runs, interrupted: interrupted)
    }
}
