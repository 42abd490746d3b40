extension Scenario {
    /// What every run costs beyond the waits it declares: the preflight health check, starting the load, the heal on
    /// the way out, stopping the load, reading the writes back and writing the reports. A floor, not an estimate: a run
    /// on the local environment has never taken less (the heal alone waits for a commit through HAProxy).
    public static let runOverhead: Duration = .seconds(10)

    /// The least wall time one run of this scenario takes: what it must wait whatever the cluster does (the steady
    /// state, every `Hold`, the observation after the heal) plus `runOverhead`. Awaits and operations may end at once,
    /// so they add nothing. A suite refuses a budget or a per-scenario timeout below it.
    public var minimumDuration: Duration {
        let holds = steps.reduce(Duration.zero) { sum, step in if case .hold(let d) = step { sum + d } else { sum } }
        return steadyState + holds + targets.observeAfterHeal + Self.runOverhead
    }

    /// `minimumDuration` spelled out: `1 m 5 s (steady state 10s + holds 30s + observe 15s + overhead 10s)`.
    public var minimumDurationText: String {
        let holds = steps.reduce(Duration.zero) { sum, step in if case .hold(let d) = step { sum + d } else { sum } }
        return "\(DurationText.human(ms: minimumDuration.milliseconds)) (steady state \(DurationText.format(steadyState)) + holds "
            + "\(DurationText.format(holds)) + observe \(DurationText.format(targets.observeAfterHeal)) + overhead \(DurationText.format(Self.runOverhead)))"
    }
}

/// What a suite runs, in order, resolved and checked before anything is touched (`SuitePlanner.plan`).
public struct SuitePlan: Sendable, Equatable {
    /// One run of one scenario: attempt `attempt` of `attempts`.
    public struct Entry: Sendable, Equatable {
        public var scenario: String
        /// `--set` in the order they apply: the file's, the entry's own, then the command line's (the last wins).
        public var overrides: [String]
        /// `--abort`: the file's, the entry's own, then the command line's.
        public var abort: [String]
        public var attempt: Int
        public var attempts: Int
        /// `Scenario.minimumDuration` of the scenario after its overrides.
        public var minimum: Duration

        public init(scenario: String, overrides: [String] = [], abort: [String] = [], attempt: Int = 1, attempts: Int = 1,
                    minimum: Duration = Scenario.runOverhead) {
            self.scenario = scenario
            self.overrides = overrides
            self.abort = abort
            self.attempt = attempt
            self.attempts = attempts
            self.minimum = minimum
        }

        /// `kill-primary (run 1 of 2)`, or the bare name for a single run.
        public var label: String { attempts > 1 ? "\(scenario) (run \(attempt) of \(attempts))" : scenario }
    }

    public var name: String
    public var entries: [Entry]
    public var budget: Duration?
    public var scenarioTimeout: Duration?
    public var keepGoing: Bool

    public init(name: String = "suite", entries: [Entry], budget: Duration? = nil, scenarioTimeout: Duration? = nil, keepGoing: Bool = false) {
        self.name = name
        self.entries = entries
        self.budget = budget
        self.scenarioTimeout = scenarioTimeout
        self.keepGoing = keepGoing
    }

    /// The sum of every run's minimum: the suite cannot take less.
    public var minimumTotal: Duration { entries.reduce(.zero) { $0 + $1.minimum } }

    /// What `faultline suite --dry-run` prints: the settings, one line a run, the estimated minimum wall time.
    public func dryRunText(environment: String) -> String {
        var out = "suite \(name) on \(environment): \(entries.count) run\(entries.count == 1 ? "" : "s")\n"
        out += "  budget: " + (budget.map(DurationText.format) ?? "none")
            + ", scenario timeout: " + (scenarioTimeout.map(DurationText.format) ?? "none")
            + ", " + (keepGoing ? "keep going after a failure" : "stop at the first failure") + "\n"
        let width = String(entries.count).count
        for (i, e) in entries.enumerated() {
            let n = String(i + 1)
            out += "  [\(String(repeating: " ", count: width - n.count))\(n)/\(entries.count)] \(e.label)"
                + (e.overrides.isEmpty ? "" : "  --set " + e.overrides.joined(separator: " --set "))
                + (e.abort.isEmpty ? "" : "  --abort " + e.abort.joined(separator: " --abort "))
                + "  at least \(DurationText.human(ms: e.minimum.milliseconds))\n"
        }
        out += "estimated minimum wall time: \(DurationText.human(ms: minimumTotal.milliseconds)) (steady states, holds, observation "
            + "and \(DurationText.format(Scenario.runOverhead)) a run; awaits, operations and the heals between runs come on top)\n"
        if let b = budget, b < minimumTotal {
            out += "the budget \(DurationText.format(b)) is below that: the runs it cannot cover will be marked not run\n"
        }
        return out
    }
}

/// Turns a suite request into a plan, or refuses it with one line (`InputError`, exit 2) before anything is touched.
/// Pure: the catalogue is given, so the core needs no scenario module.
public enum SuitePlanner {
    /// The plan of `commandLine` over `file` (the command line wins; see `docs/suite.md`):
    /// - selection: the command line's tags and names when it gives any, else the file's. Scenarios named explicitly
    ///   come first, in their order (one may appear twice, with other settings); then the scenarios that carry every
    ///   tag (as `faultline list --tag` does), in catalogue order, unless named already.
    /// - repeat: the command line's, else the entry's own, else the file's, else 1. Budget, timeout, keep-going: the
    ///   command line's, else the file's. `--set`/`--abort`: the file's, the entry's own, then the command line's.
    /// - order: in rounds: every scenario's first run, then every second run, ...: a budget that runs out leaves
    ///   repeats unrun before it leaves scenarios unrun.
    public static func plan(file: SuiteRequest? = nil, commandLine: SuiteRequest, catalogue: [Scenario]) throws(InputError) -> SuitePlan {
        if let n = commandLine.repeats, n < 1 { throw InputError("--repeat \(n): run each scenario at least once (1 or more)") }
        let base = file ?? SuiteRequest()
        let selection = commandLine.selects ? commandLine : base
        // Unnamed: after the tags it selects (`nightly`), else "suite".
        let name = commandLine.name ?? base.name ?? (selection.tags.isEmpty ? "suite" : selection.tags.joined(separator: "+"))
        if name.isEmpty || name.contains(where: { $0.isWhitespace || $0 == "/" }) {
            throw InputError("suite name '\(name)' must be non-empty, without spaces or '/'")
        }

        let known = Set(catalogue.flatMap(\.tags))
        for t in selection.tags where !known.contains(Tag(rawValue: t)) {
            throw InputError("unknown tag '\(t)' (known: \(known.sorted().map(\.rawValue).joined(separator: ", ")))")
        }
        for e in selection.scenarios where !catalogue.contains(where: { $0.name == e.name }) {
            throw InputError("unknown scenario '\(e.name)' (known: \(catalogue.map(\.name).joined(separator: ", ")); see `faultline list`)")
        }
        var chosen = selection.scenarios
        if !selection.tags.isEmpty {
            let wanted = Set(selection.tags.map(Tag.init(rawValue:)))
            for s in catalogue where wanted.isSubset(of: Set(s.tags)) && !chosen.contains(where: { $0.name == s.name }) {
                chosen.append(SuiteRequest.Entry(s.name))
            }
            if chosen.isEmpty { throw InputError("no scenario has every tag of \(selection.tags.joined(separator: ", ")) (see `faultline list --tag`)") }
        }
        if chosen.isEmpty { throw InputError("nothing selected: name scenarios, or give --tag or --file (see `faultline list`)") }

        // Every --set and --abort is checked once, before any scenario is resolved: one line names the bad one.
        _ = try ParameterOverride.parseAll(base.overrides + commandLine.overrides)
        _ = try AbortCondition.parseAll(base.abort + commandLine.abort)
        struct Resolved { var entry: SuiteRequest.Entry; var overrides: [String]; var abort: [String]; var repeats: Int; var scenario: Scenario }
        var resolved: [Resolved] = []
        for e in chosen {
            let overrides = base.overrides + e.overrides + commandLine.overrides
            let abort = base.abort + e.abort + commandLine.abort
            let original = catalogue.first { $0.name == e.name }!
            let s = original.applying(try ParameterOverride.parseAll(overrides)).addingAbortConditions(try AbortCondition.parseAll(abort))
            if let problem = s.problems().first { throw InputError("scenario '\(e.name)' after --set: \(problem)") }
            let repeats = commandLine.repeats ?? e.repeats ?? base.repeats ?? 1
            if repeats < 1 { throw InputError("scenario '\(e.name)': repeat \(repeats): run each scenario at least once (1 or more)") }
            resolved.append(Resolved(entry: e, overrides: overrides, abort: abort, repeats: repeats, scenario: s))
        }

        let budget = commandLine.budget ?? base.budget
        let timeout = commandLine.scenarioTimeout ?? base.scenarioTimeout
        let longest = resolved.max { $0.scenario.minimumDuration < $1.scenario.minimumDuration }!.scenario
        if let b = budget, b < longest.minimumDuration {
            throw InputError("budget \(DurationText.format(b)) is below the minimum of one run of \(longest.name): \(longest.minimumDurationText)")
        }
        if let t = timeout, t < longest.minimumDuration {
            throw InputError("scenario timeout \(DurationText.format(t)) is below the minimum of one run of \(longest.name): \(longest.minimumDurationText)")
        }

        var entries: [SuitePlan.Entry] = []
        for round in 1...resolved.map(\.repeats).max()! {
            for r in resolved where r.repeats >= round {
                entries.append(SuitePlan.Entry(scenario: r.entry.name, overrides: r.overrides, abort: r.abort, attempt: round,
                                               attempts: r.repeats, minimum: r.scenario.minimumDuration))
            }
        }
        return SuitePlan(name: name, entries: entries, budget: budget, scenarioTimeout: timeout,
                         keepGoing: commandLine.keepGoing ?? base.keepGoing ?? false)
    }
}
