import Testing
@testable import Faultline
import Scenarios

@Suite("--set and durations")
struct ParameterTests {
    @Test(arguments: [
        ("500ms", 500), ("20s", 20_000), ("2m", 120_000), ("1.5s", 1_500), ("1m30s", 90_000), (" 3s ", 3_000), ("1h", 3_600_000),
    ])
    func parsesDurations(text: String, ms: Int) {
        #expect(DurationText.parse(text)?.milliseconds == ms)
    }

    @Test(arguments: ["", "20", "s", "20x", "-5s", "1.2.3s", "ms20"])
    func rejectsMalformedDurations(text: String) {
        #expect(DurationText.parse(text) == nil)
    }

    @Test func formatRoundTrips() {
        for d in [Duration.milliseconds(1500), .seconds(20), .seconds(120), .milliseconds(7)] {
            #expect(DurationText.parse(DurationText.format(d)) == d)
        }
        #expect(DurationText.human(ms: 12_449) == "12.4 s")
        #expect(DurationText.human(ms: 850) == "850 ms")
        #expect(DurationText.human(ms: 125_000) == "2 m 5 s")
    }

    @Test func appliesOverrides() throws {
        let o = try ParameterOverride.parseAll(["rto=20s", "steady=5s", "rate=100", "lostWrites=2", "error-budget=0.5%",
                                                "await=12s", "p99=250ms", "observe=8s"])
        let s = killPrimary.applying(o)
        #expect(s.targets.rto == .seconds(20))
        #expect(s.steadyState == .seconds(5))
        #expect(s.workloads.map(\.rate) == [100, 100])
        #expect(s.targets.lostWrites == 2)
        #expect(s.targets.errorBudgetAfter == 0.005)
        #expect(s.targets.p99After == .milliseconds(250))
        #expect(s.targets.observeAfterHeal == .seconds(8))
        #expect(s.steps[1] == .await(.newPrimary, within: .seconds(12)))
        #expect(killPrimary.targets.rto == .seconds(30), "the catalogue value is untouched")
    }

    @Test func holdShortensEveryHoldStepAndNothingElse() throws {
        let s = longQuery.applying(try ParameterOverride.parseAll(["hold=4s"]))
        let holds = s.steps.compactMap { if case .hold(let d) = $0 { d } else { nil } }
        #expect(holds == [.seconds(4)])
        #expect(s.steps.count == longQuery.steps.count)
        // The Expect windows, the targets and the catalogue value stay as they were.
        #expect(s.steps.filter { if case .hold = $0 { false } else { true } } == longQuery.steps.filter { if case .hold = $0 { false } else { true } })
        #expect(s.targets == longQuery.targets)
        #expect(longQuery.steps.contains(.hold(.seconds(15))))
        #expect(killPrimary.applying(try ParameterOverride.parseAll(["hold=4s"])) == killPrimary, "no Hold step: unchanged")
        #expect(throws: InputError.self) { try ParameterOverride.parse("hold=0s") }
    }

    @Test func observeAcceptsZeroToTurnTheWindowOff() throws {
        #expect(try ParameterOverride.parse("observe=0s") == .init(parameter: .observe, value: .duration(.zero)))
        #expect(killPrimary.applying([try ParameterOverride.parse("observe=0s")]).problems().isEmpty)
    }

    @Test func writeAndReadRatesAreSeparate() throws {
        let s = killPrimary.applying(try ParameterOverride.parseAll(["write-rate=7", "read-rate=9"]))
        #expect(s.workloads == [.ledgerWrites(rate: 7), .replicaReads(rate: 9)])
    }

    @Test(arguments: [
        ("rto20s", "expected key=value"),
        ("=5s", "expected key=value"),
        ("colour=red", "unknown parameter 'colour'"),
        ("rto=fast", "expected a positive duration"),
        ("rto=0s", "expected a positive duration"),
        ("observe=-1s", "0s or more"),
        ("rate=-3", "whole number"),
        ("rate=1.5", "whole number"),
        ("error-budget=150%", "between 0 and 1"),
    ])
    func rejectsBadInputWithOneLine(text: String, fragment: String) {
        do {
            _ = try ParameterOverride.parse(text)
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.message.contains(fragment), "\(error.message)")
            #expect(!error.message.contains("\n"))
        }
    }
}
