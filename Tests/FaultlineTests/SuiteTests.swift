import Foundation
import Testing
@testable import Faultline
import Scenarios

/// A small catalogue with known minimum durations: a (failover, nightly) 25 s, b (planned, nightly) 25 s,
/// c (network) 55 s (a 30 s hold).
enum SuiteFixture {
    static func named(_ s: Scenario, _ name: String, tags: [Faultline.Tag]) -> Scenario {
        var s = s
        s.name = name
        s.tags = tags
        return s
    }

    static let a = named(killPrimary, "a", tags: [.failover, .nightly])
    static let b = named(switchover, "b", tags: [.planned, .nightly])
    static let c: Scenario = {
        var s = named(killPrimary, "c", tags: ["network"])
        let i = s.steps.firstIndex { if case .inject = $0 { true } else { false } }!
        s.steps.insert(.hold(.seconds(30)), at: i + 1)
        return s
    }()
    static let catalogue = [a, b, c]

    static func plan(file: SuiteRequest? = nil, _ cli: SuiteRequest) throws -> SuitePlan {
        try SuitePlanner.plan(file: file, commandLine: cli, catalogue: catalogue)
    }

    static func refusal(file: SuiteRequest? = nil, _ cli: SuiteRequest) -> String? {
        do {
            _ = try SuitePlanner.plan(file: file, commandLine: cli, catalogue: catalogue)
            return nil
        } catch {
            return error.message
        }
    }

    static func decode(_ json: String) throws -> SuiteRequest {
        try JSONDecoder().decode(SuiteRequest.self, from: Data(json.utf8))
    }

    static func fileError(_ json: String) -> String? {
        do {
            _ = try decode(json)
            return nil
        } catch {
            return SuiteRequest.describe(error, file: "suite.json")
        }
    }
}

@Suite("Suite: minimum duration, selection, bad input, plan")
struct SuitePlanTests {
    typealias F = SuiteFixture

    @Test func minimumDurationIsSteadyStatePlusHoldsPlusObservePlusOverhead() throws {
        #expect(Scenario.runOverhead == .seconds(10))
        #expect(F.a.minimumDuration == .seconds(25))  // 10 + 0 + 5 + 10
        #expect(F.c.minimumDuration == .seconds(55))  // 10 + 30 + 5 + 10
        let shorter = F.c.applying(try ParameterOverride.parseAll(["steady=5s", "hold=10s", "observe=0s"]))
        #expect(shorter.minimumDuration == .seconds(25))  // 5 + 10 + 0 + 10
        #expect(F.c.minimumDurationText.contains("holds 30s"))
        // Two holds add up; an await adds nothing.
        var twice = F.c
        twice.steps.append(.hold(.seconds(7)))
        #expect(twice.minimumDuration == .seconds(62))
    }

    @Test func selectsByTagInCatalogueOrderEveryTagRequired() throws {
        #expect(try F.plan(SuiteRequest(tags: ["nightly"])).entries.map(\.scenario) == ["a", "b"])
        #expect(try F.plan(SuiteRequest(tags: ["nightly", "planned"])).entries.map(\.scenario) == ["b"])
        #expect(try F.plan(SuiteRequest(tags: ["network"])).entries.map(\.scenario) == ["c"])
    }

    @Test func anUnnamedSuiteIsNamedAfterItsTags() throws {
        #expect(try F.plan(SuiteRequest(tags: ["nightly"])).name == "nightly")
        #expect(try F.plan(SuiteRequest(tags: ["nightly", "planned"])).name == "nightly+planned")
        #expect(try F.plan(SuiteRequest(scenarios: [.init("a")])).name == "suite")
        #expect(try F.plan(SuiteRequest(name: "mine", tags: ["nightly"])).name == "mine")
    }

    @Test func namedScenariosComeFirstInTheirOrderThenTheTaggedOnesOnce() throws {
        #expect(try F.plan(SuiteRequest(scenarios: [.init("c"), .init("a")])).entries.map(\.scenario) == ["c", "a"])
        #expect(try F.plan(SuiteRequest(tags: ["nightly"], scenarios: [.init("b")])).entries.map(\.scenario) == ["b", "a"])
        // Named twice with other settings: both run.
        let twice = try F.plan(SuiteRequest(scenarios: [.init("a", overrides: ["steady=5s"]), .init("a")]))
        #expect(twice.entries.map(\.overrides) == [["steady=5s"], []])
    }

    @Test func aSuiteFileSelectsAndTheCommandLineOverridesIt() throws {
        let file = try F.decode("""
            {"name": "nightly", "tags": ["nightly"], "scenarios": ["c", {"name": "b", "set": ["steady=5s"], "repeat": 2}],
             "repeat": 1, "budget": "30m", "scenarioTimeout": "10m", "keepGoing": true, "set": ["rate=50"], "abort": ["lost-writes>0"]}
            """)
        let p = try F.plan(file: file, SuiteRequest())
        #expect(p.name == "nightly")
        #expect(p.entries.map(\.label) == ["c", "b (run 1 of 2)", "a", "b (run 2 of 2)"])
        #expect(p.budget == .seconds(1_800) && p.scenarioTimeout == .seconds(600) && p.keepGoing)
        let b = try #require(p.entries.first { $0.scenario == "b" })
        #expect(b.overrides == ["rate=50", "steady=5s"])
        #expect(b.abort == ["lost-writes>0"])
        #expect(b.minimum == .seconds(20))

        // The command line's selection replaces the file's; its scalars win; its --set comes last (wins).
        let cli = SuiteRequest(scenarios: [.init("b")], repeats: 3, budget: .seconds(3_600), keepGoing: false,
                               overrides: ["steady=8s"], abort: ["p99>2s/30s"])
        let q = try F.plan(file: file, cli)
        #expect(q.entries.map(\.label) == ["b (run 1 of 3)", "b (run 2 of 3)", "b (run 3 of 3)"])
        #expect(q.budget == .seconds(3_600) && q.scenarioTimeout == .seconds(600) && !q.keepGoing)
        #expect(q.entries[0].overrides == ["rate=50", "steady=8s"])
        #expect(q.entries[0].minimum == .seconds(23))
        #expect(q.entries[0].abort == ["lost-writes>0", "p99>2s/30s"])
        // A file's entry with its own set keeps it, before the command line's.
        let r = try F.plan(file: file, SuiteRequest(overrides: ["steady=8s"]))
        #expect(r.entries.first { $0.scenario == "b" }?.overrides == ["rate=50", "steady=5s", "steady=8s"])
    }

    @Test func repeatsRunInRoundsEachAttemptNumbered() throws {
        let p = try F.plan(SuiteRequest(scenarios: [.init("a", repeats: 3), .init("b"), .init("c", repeats: 2)]))
        #expect(p.entries.map(\.label) == ["a (run 1 of 3)", "b", "c (run 1 of 2)", "a (run 2 of 3)", "c (run 2 of 2)", "a (run 3 of 3)"])
        let q = try F.plan(SuiteRequest(scenarios: [.init("a", repeats: 3), .init("b")], repeats: 2))
        #expect(q.entries.map { "\($0.scenario)\($0.attempt)/\($0.attempts)" } == ["a1/2", "b1/2", "a2/2", "b2/2"])
        #expect(q.minimumTotal == .seconds(100))
        #expect(try F.plan(SuiteRequest(tags: ["nightly"])).entries.allSatisfy { $0.attempts == 1 })
    }

    @Test func badInputIsOneLineEach() throws {
        let unknownTag = try #require(F.refusal(SuiteRequest(tags: ["nightly", "nope"])))
        #expect(unknownTag == "unknown tag 'nope' (known: failover, network, nightly, planned)")
        #expect(F.refusal(SuiteRequest())?.hasPrefix("nothing selected") == true)
        #expect(F.refusal(SuiteRequest(tags: ["network", "nightly"]))?.hasPrefix("no scenario has every tag of network, nightly") == true)
        #expect(F.refusal(SuiteRequest(scenarios: [.init("a")], repeats: 0)) == "--repeat 0: run each scenario at least once (1 or more)")
        #expect(F.refusal(SuiteRequest(scenarios: [.init("zz")]))?.hasPrefix("unknown scenario 'zz' (known: a, b, c;") == true)
        #expect(F.refusal(SuiteRequest(scenarios: [.init("a")], overrides: ["steady=abc"]))?.hasPrefix("--set steady='abc'") == true)
        #expect(F.refusal(SuiteRequest(scenarios: [.init("a")], overrides: ["nope=1"])) != nil)
        #expect(F.refusal(SuiteRequest(scenarios: [.init("a", overrides: ["steady=-1s"])])) != nil)
        #expect(F.refusal(SuiteRequest(scenarios: [.init("a")], abort: ["foo>1"]))?.hasPrefix("--abort 'foo>1'") == true)
        #expect(F.refusal(SuiteRequest(name: "my suite", scenarios: [.init("a")]))?.contains("without spaces") == true)
        for e in [SuiteRequest(), SuiteRequest(tags: ["x"])] { #expect(F.refusal(e)?.contains("\n") == false) }
    }

    @Test func aBudgetOrTimeoutBelowOneScenariosMinimumIsRefused() throws {
        // c needs 55 s at least.
        let budget = try #require(F.refusal(SuiteRequest(tags: ["network"], budget: .seconds(54))))
        #expect(budget.hasPrefix("budget 54s is below the minimum of one run of c: 55.0 s"))
        #expect(F.refusal(SuiteRequest(tags: ["network"], budget: .seconds(55))) == nil)
        let timeout = try #require(F.refusal(SuiteRequest(scenarios: [.init("a"), .init("c")], scenarioTimeout: .seconds(30))))
        #expect(timeout.hasPrefix("scenario timeout 30s is below the minimum of one run of c"))
        // Overrides count: with a shorter hold c fits.
        #expect(F.refusal(SuiteRequest(scenarios: [.init("c")], scenarioTimeout: .seconds(30), overrides: ["hold=5s"])) == nil)
    }

    @Test func aSuiteFileThatDoesNotParseNamesTheField() {
        #expect(F.fileError(#"{"scenarios": ["a", {"name": "b", "repeat": "2"}]}"#)
                == "suite file suite.json: field 'scenarios[1].repeat': expected a whole number")
        #expect(F.fileError(#"{"keep_going": true}"#)?.hasPrefix("suite file suite.json: field 'keep_going': unknown field") == true)
        #expect(F.fileError(#"{"budget": "30x"}"#) == "suite file suite.json: field 'budget': '30x' is not a positive duration such as 30m or 90s")
        #expect(F.fileError(#"{"repeat": 0}"#)?.hasPrefix("suite file suite.json: field 'repeat': 0: run each scenario") == true)
        #expect(F.fileError(#"{"scenarios": [{"set": []}]}"#) == "suite file suite.json: field 'scenarios[0].name' is missing")
        #expect(F.fileError(#"{"tags": "nightly"}"#) == "suite file suite.json: field 'tags': expected a list of strings")
        #expect(F.fileError(#"{"scenarios": [{"name": "b", "sets": []}]}"#)?.contains("field 'scenarios[0].sets': unknown field") == true)
        #expect(F.fileError(#"{"scenarios": "a"}"#) == "suite file suite.json: field 'scenarios': expected a list of scenario names or objects")
        #expect(F.fileError("{nope") == "suite file suite.json: not valid JSON")
        #expect(F.fileError("[1]") == "suite file suite.json: expected a JSON object")
        #expect(F.fileError("{}") == nil)
    }

    @Test func dryRunTextListsEveryRunAndTheMinimum() throws {
        let p = try F.plan(SuiteRequest(scenarios: [.init("a", repeats: 2), .init("c")], budget: .seconds(100)))
        let text = p.dryRunText(environment: "local")
        #expect(text.contains("[1/3] a (run 1 of 2)  at least 25.0 s"))
        #expect(text.contains("[2/3] c  at least 55.0 s"))
        #expect(text.contains("estimated minimum wall time: 1 m 45 s"))
        #expect(text.contains("the budget 1m40s") || text.contains("the budget 100s"))
    }
}

@Suite("Suite: progress, budget, stop, result")
struct SuiteProgressTests {
    typealias F = SuiteFixture

    static func entry(_ name: String, _ attempt: Int = 1, of n: Int = 1, min: Int = 25) -> SuitePlan.Entry {
        SuitePlan.Entry(scenario: name, attempt: attempt, attempts: n, minimum: .seconds(min))
    }

    static func ran(_ p: Int, _ e: SuitePlan.Entry, _ status: String, _ exit: Faultline.ExitStatus) -> SuiteResult.Run {
        SuiteResult.Run(position: p, entry: e, status: status, exitCode: exit.rawValue, verdicts: ["passed": 2], durationMs: 30_000)
    }

    @Test func healsBeforeEveryRunButTheFirstAndStopsWhenTheBudgetCannotCoverTheNext() {
        let es = [Self.entry("a"), Self.entry("b"), Self.entry("c")]
        var s = SuiteProgress(plan: SuitePlan(entries: es, budget: .seconds(60), keepGoing: true))
        #expect(s.next(elapsed: .zero) == .run(index: 0, entry: es[0], healFirst: false))
        s.record(Self.ran(1, es[0], "passed", .passed))
        #expect(s.next(elapsed: .seconds(35)) == .run(index: 1, entry: es[1], healFirst: true))  // 35 + 25 = 60 fits
        s.record(Self.ran(2, es[1], "passed", .passed))
        #expect(s.next(elapsed: .seconds(36)) == .finished)  // 36 + 25 > 60
        #expect(s.isFinished)
        let last = s.runs[2]
        #expect(!last.ran && last.status == "not-run" && last.position == 3)
        #expect(last.notRun == "budget exhausted: 24.0 s of 1m left, c needs at least 25.0 s")
        #expect(s.next(elapsed: .seconds(99)) == .finished)
        #expect(s.runs.count == 3)
    }

    @Test func stopsAtTheFirstFailureUnlessKeepGoing() {
        let es = [Self.entry("a"), Self.entry("b"), Self.entry("c")]
        var stop = SuiteProgress(plan: SuitePlan(entries: es))
        _ = stop.next(elapsed: .zero)
        stop.record(Self.ran(1, es[0], "target-failed", .targetFailed))
        #expect(stop.next(elapsed: .seconds(30)) == .finished)
        #expect(stop.runs.map(\.status) == ["target-failed", "not-run", "not-run"])
        #expect(stop.runs[1].notRun?.hasPrefix("stopped at the first failure (a: target-failed)") == true)

        // Skipped exits 0: not a failure.
        var skipped = SuiteProgress(plan: SuitePlan(entries: es))
        _ = skipped.next(elapsed: .zero)
        skipped.record(Self.ran(1, es[0], "skipped", .passed))
        #expect(skipped.next(elapsed: .zero) == .run(index: 1, entry: es[1], healFirst: true))

        var go = SuiteProgress(plan: SuitePlan(entries: es, keepGoing: true))
        _ = go.next(elapsed: .zero)
        go.record(Self.ran(1, es[0], "aborted", .aborted))
        #expect(go.next(elapsed: .zero) == .run(index: 1, entry: es[1], healFirst: true))
        go.record(.harnessError(position: 2, entry: es[1], "the heal before this run failed: no leader"))
        #expect(go.next(elapsed: .zero) == .run(index: 2, entry: es[2], healFirst: true))
    }

    @Test func anInterruptMarksTheRestNotRun() {
        let es = [Self.entry("a"), Self.entry("b")]
        var s = SuiteProgress(plan: SuitePlan(entries: es, keepGoing: true))
        _ = s.next(elapsed: .zero)
        s.record(Self.ran(1, es[0], "passed", .passed))
        s.interrupt()
        #expect(s.next(elapsed: .zero) == .finished)
        #expect(s.runs[1].notRun == "interrupted (Ctrl-C)")
        let r = s.result(suiteId: "x", environment: "local", startedAt: "t", durationMs: 1)
        #expect(r.interrupted && r.exitCode == 0 && r.ranCount == 1 && r.notRunCount == 1)
    }

    @Test func distributionAndFlakeRatePerScenario() {
        let a = (1...4).map { Self.entry("a", $0, of: 4) }, b = Self.entry("b")
        let runs: [SuiteResult.Run] = [
            Self.ran(1, a[0], "passed", .passed), Self.ran(2, b, "passed", .passed),
            Self.ran(3, a[1], "target-failed", .targetFailed), Self.ran(4, a[2], "passed", .passed),
            .notRun(position: 5, entry: a[3], "budget exhausted"),
        ]
        let r = SuiteResult(suiteId: "s", plan: SuitePlan(entries: a + [b]), environment: "local", startedAt: "t", durationMs: 1, runs: runs)
        let sa = try! #require(r.scenarios.first { $0.scenario == "a" })
        #expect(r.scenarios.map(\.scenario) == ["a", "b"])
        #expect(sa.runs == 3 && sa.notRun == 1)
        #expect(sa.distribution == ["passed": 2, "target-failed": 1])
        #expect(abs(sa.flakeRate - 1.0 / 3.0) < 1e-9)
        #expect(sa.flaky && sa.mostCommon == "passed" && sa.worstExitCode == 1)
        let sb = r.scenarios[1]
        #expect(sb.flakeRate == 0 && !sb.flaky && sb.distribution == ["passed": 1])
        // A tie: flake rate 1/2, the first status by name is the most common.
        let tie = SuiteResult.ScenarioSummary(scenario: "a", runs: [Self.ran(1, a[0], "target-failed", .targetFailed), Self.ran(2, a[1], "aborted", .aborted)])
        #expect(tie.flakeRate == 0.5 && tie.mostCommon == "aborted")
        let none = SuiteResult.ScenarioSummary(scenario: "a", runs: [.notRun(position: 1, entry: a[0], "x")])
        #expect(none.runs == 0 && none.flakeRate == 0 && !none.flaky && none.mostCommon == nil && none.worstExitCode == nil)
    }

    @Test func theSuitesExitIsTheWorstRunsExit() {
        let e = Self.entry("a")
        func exit(_ runs: [SuiteResult.Run]) -> Int32 {
            SuiteResult(suiteId: "s", plan: SuitePlan(entries: []), environment: "l", startedAt: "t", durationMs: 0, runs: runs).exitCode
        }
        #expect(exit([]) == 0)
        #expect(exit([.notRun(position: 1, entry: e, "x")]) == 0)
        #expect(exit([Self.ran(1, e, "passed", .passed), Self.ran(2, e, "target-failed", .targetFailed)]) == 1)
        #expect(exit([Self.ran(1, e, "target-failed", .targetFailed), Self.ran(2, e, "aborted", .aborted)]) == 7)
        #expect(exit([Self.ran(1, e, "aborted", .aborted), .timedOut(position: 2, entry: e, after: .seconds(60), durationMs: 61_000, runId: nil, reportDir: nil)]) == 3)
        #expect(exit([Self.ran(1, e, "passed", .passed), .harnessError(position: 2, entry: e, "heal failed")]) == 3)
        let t = SuiteResult.Run.timedOut(position: 2, entry: e, after: .seconds(600), durationMs: 1, runId: nil, reportDir: nil)
        #expect(t.status == "timed-out" && t.exitStatus == .harnessError && t.error?.contains("10m") == true)
    }

    @Test func aCompletedRunCountsItsVerdictsAndAReportNotWrittenIsAHarnessError() {
        let verdicts = [Verdict(id: "rto", title: "RTO", result: .passed(measured: .ms(1), target: .ms(2))),
                        Verdict(id: "x", title: "x", result: .skipped(reason: "no netem")),
                        Verdict(id: "y", title: "y", result: .skipped(reason: "no netem"))]
        let r = RunReport(runId: "a-1", scenario: F.a, environment: "local", startedAt: "t", durationMs: 42,
                          observations: Observations(), judgement: Judgement(verdicts: verdicts, recovery: nil))
        let run = SuiteResult.Run.completed(position: 1, entry: Self.entry("a"), report: r, reportDir: "/r/a-1", reportError: nil)
        #expect(run.status == "passed" && run.exitCode == 0 && run.verdicts == ["passed": 1, "skipped": 2] && run.durationMs == 42)
        let bad = SuiteResult.Run.completed(position: 1, entry: Self.entry("a"), report: r, reportDir: nil, reportError: "cannot write: password=hunter2")
        #expect(bad.status == "harness-error" && bad.exitCode == 3)
        #expect(bad.error?.contains("hunter2") == false)
    }
}
