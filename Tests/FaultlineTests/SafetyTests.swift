import Foundation
import Testing
@testable import Faultline

/// The message `parse` throws for `text`, or a test failure.
private func parseError(_ text: String) -> String {
    do {
        let c = try AbortCondition.parse(text)
        Issue.record("'\(text)' parsed as \(c)")
        return ""
    } catch { return error.message }
}

@Suite("Abort conditions: parse and text")
struct AbortConditionParseTests {
    @Test(arguments: [
        ("error-rate>50%/60s", AbortCondition.errorRate(above: 0.5, for: .seconds(60))),
        ("error-rate>0.5", .errorRate(above: 0.5, for: .zero)),
        ("error-rate > 12.5 % / 2s", .errorRate(above: 0.125, for: .seconds(2))),
        ("ERROR-RATE>100%", .errorRate(above: 1, for: .zero)),
        ("p99>2s/30s", .p99(above: .seconds(2), for: .seconds(30))),
        ("p99>250ms", .p99(above: .milliseconds(250), for: .zero)),
        ("p99>1.5s/1m", .p99(above: .milliseconds(1_500), for: .seconds(60))),
        ("lost-writes>0", .lostWrites(above: 0)),
        ("lost-writes>12", .lostWrites(above: 12)),
        ("disk-free<5%", .diskFree(below: 0.05)),
        ("disk-free<0.1", .diskFree(below: 0.1)),
        ("replication-lag>64MiB", .replicationLag(aboveBytes: 64 << 20)),
        ("replication-lag>512KiB", .replicationLag(aboveBytes: 512 << 10)),
        ("replication-lag>2GiB", .replicationLag(aboveBytes: 2 << 30)),
        ("replication-lag>1000B", .replicationLag(aboveBytes: 1_000)),
        ("replication-lag>4096", .replicationLag(aboveBytes: 4_096)),
    ])
    func parsesEveryMetricAndUnit(text: String, expected: AbortCondition) throws {
        #expect(try AbortCondition.parse(text) == expected)
    }

    @Test(arguments: [
        AbortCondition.errorRate(above: 0.5, for: .seconds(60)), .errorRate(above: 0.07, for: .zero),
        .errorRate(above: 0.125, for: .seconds(2)), .errorRate(above: 0.333, for: .zero), .errorRate(above: 1, for: .zero),
        .errorRate(above: 0, for: .milliseconds(1_500)),
        .p99(above: .seconds(2), for: .seconds(30)), .p99(above: .milliseconds(1_500), for: .zero), .p99(above: .seconds(120), for: .seconds(1)),
        .lostWrites(above: 0), .lostWrites(above: 3),
        .diskFree(below: 0.05), .diskFree(below: 0.07), .diskFree(below: 0.29), .diskFree(below: 0.001),
        .replicationLag(aboveBytes: 64 << 20), .replicationLag(aboveBytes: 0), .replicationLag(aboveBytes: 1_234),
    ])
    func textReadsBack(c: AbortCondition) throws {
        #expect(try AbortCondition.parse(c.text) == c, "\(c.text)")
    }

    @Test func textIsTheDocumentedForm() {
        #expect(AbortCondition.errorRate(above: 0.5, for: .seconds(60)).text == "error-rate>50%/1m")
        #expect(AbortCondition.errorRate(above: 0.5, for: .seconds(2)).text == "error-rate>50%/2s")
        #expect(AbortCondition.p99(above: .seconds(2), for: .seconds(30)).text == "p99>2s/30s")
        #expect(AbortCondition.lostWrites(above: 0).text == "lost-writes>0")
        #expect(AbortCondition.diskFree(below: 0.05).text == "disk-free<5%")
        #expect(AbortCondition.replicationLag(aboveBytes: 64 << 20).text == "replication-lag>64MiB")
    }

    @Test func sustainedOnlyForRatesAndLatencies() {
        #expect(AbortCondition.errorRate(above: 0.5, for: .seconds(2)).sustained == .seconds(2))
        #expect(AbortCondition.p99(above: .seconds(1), for: .seconds(3)).sustained == .seconds(3))
        #expect(AbortCondition.lostWrites(above: 0).sustained == .zero)
        #expect(AbortCondition.diskFree(below: 0.05).sustained == .zero)
    }

    @Test func unknownMetricListsTheKnownOnes() {
        let m = parseError("latency>2s")
        #expect(m.contains("unknown metric 'latency'"), "\(m)")
        for known in AbortCondition.metrics { #expect(m.contains(known), "\(m)") }
        // Even when its duration is bad too: the metric is what is wrong first.
        #expect(parseError("latency>2s/soon").contains("unknown metric 'latency'"))
    }

    @Test func noOperatorSaysWhatIsExpected() {
        let m = parseError("error-rate=50%")
        #expect(m.contains("expected <metric>"), "\(m)")
        #expect(m.contains("error-rate>50%/60s"))
    }

    @Test(arguments: [("disk-free>5%", "disk-free takes '<'"), ("error-rate<50%", "error-rate takes '>'"),
                      ("lost-writes<1", "lost-writes takes '>'"), ("p99<2s", "p99 takes '>'"),
                      ("replication-lag<64MiB", "replication-lag takes '>'")])
    func wrongOperator(text: String, message: String) {
        #expect(parseError(text).contains(message), "\(parseError(text))")
    }

    @Test(arguments: ["lost-writes>0/5s", "disk-free<5%/10s", "replication-lag>64MiB/30s"])
    func durationOnAnInstantaneousMetric(text: String) {
        #expect(parseError(text).contains("only error-rate and p99 take a /duration"), "\(parseError(text))")
    }

    @Test(arguments: [("error-rate>lots", "is not a ratio"), ("error-rate>150%", "must lie between 0 and 1"),
                      ("error-rate>-0.1", "must lie between 0 and 1"), ("disk-free<nan", "is not a ratio"),
                      ("p99>fast", "is not a duration"), ("p99>0s", "is not a duration"),
                      ("error-rate>50%/soon", "'soon' is not a duration"),
                      ("lost-writes>-1", "not a whole number"), ("lost-writes>1.5", "not a whole number"),
                      ("replication-lag>64MB", "is not a size"), ("replication-lag>-1MiB", "is not a size"),
                      ("replication-lag>99999999999999GiB", "is not a size")])
    func badNumbers(text: String, message: String) {
        let m = parseError(text)
        #expect(m.contains(message), "\(m)")
        #expect(!m.contains("\n"))
        #expect(m.hasPrefix("--abort '\(text)'"))
    }

    @Test func parseAllStopsAtTheFirstBadOne() throws {
        #expect(try AbortCondition.parseAll(["lost-writes>0", "disk-free<5%"]) == [.lostWrites(above: 0), .diskFree(below: 0.05)])
        #expect(throws: InputError.self) { try AbortCondition.parseAll(["lost-writes>0", "nope>1"]) }
    }

    @Test func addingAbortConditionsDoesNotRepeatOne() {
        let s = Scenario("s") { Load(.ledgerWrites(rate: 5)); SteadyState(for: .zero); Abort(when: .lostWrites(above: 0)) }
        let more = s.addingAbortConditions([.lostWrites(above: 0), .diskFree(below: 0.05)])
        #expect(more.abortConditions == [.lostWrites(above: 0), .diskFree(below: 0.05)])
        #expect(s.addingAbortConditions([]) == s)
    }
}

/// An `AbortWatch` behind a reference, so that its mutating `observe` can be called inside `#expect`.
private final class Watch {
    var watch: AbortWatch
    init(_ conditions: [AbortCondition]) { watch = AbortWatch(conditions) }
    func observe(_ s: SafetySample, atMs: Int) -> AbortTrigger? { watch.observe(s, atMs: atMs) }
    var readsLostWrites: Bool { watch.readsLostWrites }
    var readsDiskFree: Bool { watch.readsDiskFree }
    var readsLag: Bool { watch.readsLag }
}

@Suite("Abort watch")
struct AbortWatchTests {
    @Test func aSustainedConditionAbortsOnlyAfterHoldingItsWholeDuration() throws {
        let w = Watch([.errorRate(above: 0.5, for: .seconds(2))])
        #expect(w.observe(SafetySample(errorRate: 0.1), atMs: 500) == nil)
        #expect(w.observe(SafetySample(errorRate: 0.9), atMs: 1_000) == nil, "held since 1 s")
        #expect(w.observe(SafetySample(errorRate: 0.9), atMs: 2_000) == nil)
        #expect(w.observe(SafetySample(errorRate: 0.9), atMs: 2_999) == nil)
        let t = try #require(w.observe(SafetySample(errorRate: 0.93), atMs: 3_000))
        #expect(t.condition == .errorRate(above: 0.5, for: .seconds(2)))
        #expect(t.atMs == 3_000)
        #expect(t.evidence == "93 % of requests failed (held 2.0 s)")
        #expect(t.reason.hasPrefix("error rate above 50 % for 2.0 s: "))
    }

    @Test func aBreakResetsTheHold() throws {
        let w = Watch([.p99(above: .seconds(1), for: .seconds(2))])
        #expect(w.observe(SafetySample(p99Us: 1_500_000), atMs: 0) == nil)
        #expect(w.observe(SafetySample(p99Us: 1_500_000), atMs: 1_500) == nil)
        #expect(w.observe(SafetySample(p99Us: 900_000), atMs: 1_900) == nil, "a break")
        #expect(w.observe(SafetySample(p99Us: 1_500_000), atMs: 2_000) == nil, "held since 2 s again")
        #expect(w.observe(SafetySample(p99Us: 1_500_000), atMs: 3_500) == nil)
        let t = try #require(w.observe(SafetySample(p99Us: 2_000_000), atMs: 4_000))
        #expect(t.evidence == "p99 2.0 s (held 2.0 s)")
    }

    @Test func aSampleWithNothingReadBreaksTheHoldToo() {
        // No request completed in a second (nil error rate): not a violation, and the hold starts again.
        let w = Watch([.errorRate(above: 0.5, for: .seconds(1))])
        #expect(w.observe(SafetySample(errorRate: 1), atMs: 0) == nil)
        #expect(w.observe(SafetySample(errorRate: nil), atMs: 800) == nil)
        #expect(w.observe(SafetySample(errorRate: 1), atMs: 1_000) == nil)
        #expect(w.observe(SafetySample(errorRate: 1), atMs: 1_600) == nil)
        #expect(w.observe(SafetySample(errorRate: 1), atMs: 2_000) != nil)
    }

    @Test func instantaneousConditionsAbortAtOnce() throws {
        let lost = Watch([.lostWrites(above: 0)])
        #expect(lost.observe(SafetySample(lostWrites: 0), atMs: 0) == nil)
        let t = try #require(lost.observe(SafetySample(lostWrites: 2), atMs: 500))
        #expect(t.evidence == "2 acknowledged writes missing on the current primary")

        let disk = Watch([.diskFree(below: 0.05)])
        #expect(disk.observe(SafetySample(diskFree: ["n1": 0.5, "n2": 0.06]), atMs: 0) == nil)
        let d = try #require(disk.observe(SafetySample(diskFree: ["n1": 0.5, "n2": 0.04, "n3": 0.02]), atMs: 500))
        #expect(d.evidence == "n3's data volume 2 % free", "the fullest member")

        let lag = Watch([.replicationLag(aboveBytes: 64 << 20)])
        #expect(lag.observe(SafetySample(lagBytes: ["n2": 64 << 20]), atMs: 0) == nil, "at the bound is not above it")
        let l = try #require(lag.observe(SafetySample(lagBytes: ["n2": 100 << 20, "n3": 70 << 20]), atMs: 500))
        #expect(l.evidence == "n2 100 MiB behind")

        let rate = Watch([.errorRate(above: 0.5, for: .zero)])
        #expect(rate.observe(SafetySample(errorRate: 0.51), atMs: 0)?.evidence == "51 % of requests failed")
    }

    @Test func unreadFieldsNeverAbort() {
        let w = Watch([.errorRate(above: 0, for: .zero), .p99(above: .milliseconds(1), for: .zero), .lostWrites(above: 0),
                            .diskFree(below: 1), .replicationLag(aboveBytes: 0)])
        for t in stride(from: 0, through: 60_000, by: 500) { #expect(w.observe(SafetySample(), atMs: t) == nil) }
        #expect(w.readsLostWrites && w.readsDiskFree && w.readsLag)
        let none = AbortWatch([.errorRate(above: 0.5, for: .zero)])
        #expect(!none.readsLostWrites && !none.readsDiskFree && !none.readsLag)
    }

    @Test func theFirstConditionInOrderThatHoldsIsReported() {
        let w = Watch([.lostWrites(above: 0), .errorRate(above: 0.5, for: .zero)])
        #expect(w.observe(SafetySample(errorRate: 1, lostWrites: 1), atMs: 0)?.condition == .lostWrites(above: 0))
    }
}

@Suite("Steady-state hypothesis")
struct SteadyStateHypothesisTests {
    @Test func standardHoldsOnAHealthyQuietCluster() {
        let h = SteadyStateHypothesis.standard
        #expect(h.violations(errors: 0, total: 2_000, p99Us: 3_000, healthProblems: []).isEmpty)
        #expect(h.violations(errors: 20, total: 2_000, p99Us: 3_000, healthProblems: []).isEmpty, "1 % is at the bound")
        #expect(h.description == "error rate ≤ 1 %, p99 ≤ 1.0 s, cluster healthy")
    }

    @Test func eachBrokenPartIsNamed() {
        let h = SteadyStateHypothesis(errorRate: 0.01, p99: .milliseconds(250), healthy: true)
        let v = h.violations(errors: 30, total: 1_000, p99Us: 400_000, healthProblems: ["not running: n3"])
        #expect(v == ["error rate 3 % (30 of 1000) > 1 %", "p99 400 ms > 250 ms", "cluster not healthy: not running: n3"])
    }

    @Test func nothingCompletedIsAViolationOnlyWhenTheErrorRateIsChecked() {
        #expect(SteadyStateHypothesis.standard.violations(errors: 0, total: 0, p99Us: nil, healthProblems: [])
                == ["no request completed in the steady state"])
        #expect(SteadyStateHypothesis(errorRate: nil, p99: .seconds(1)).violations(errors: 0, total: 0, p99Us: nil, healthProblems: []).isEmpty)
    }

    @Test func uncheckedPartsAreIgnored() {
        let h = SteadyStateHypothesis(errorRate: nil, p99: nil, healthy: false)
        #expect(h.violations(errors: 999, total: 1_000, p99Us: 9_000_000, healthProblems: ["n3 down"]).isEmpty)
        #expect(h.description == "nothing")
    }

    @Test func theDSLAndTheParametersSetTheHypothesis() throws {
        let s = Scenario("s") {
            Load(.ledgerWrites(rate: 5))
            SteadyState(for: .seconds(10), errorRate: 0.02, p99: .milliseconds(300))
            Abort(when: .errorRate(above: 0.5, for: .seconds(60)))
            Inject(.killPostgres(.primary))
        }
        #expect(s.steadyState == .seconds(10))
        #expect(s.steadyStateHypothesis == SteadyStateHypothesis(errorRate: 0.02, p99: .milliseconds(300)))
        #expect(s.abortConditions == [.errorRate(above: 0.5, for: .seconds(60))])
        let t = s.applying(try ParameterOverride.parseAll(["steady-error-rate=5%", "steady-p99=2s"]))
        #expect(t.steadyStateHypothesis == SteadyStateHypothesis(errorRate: 0.05, p99: .seconds(2)))
        #expect(t.abortConditions == s.abortConditions)
        let plain = Scenario("p") { Load(.ledgerWrites(rate: 5)); SteadyState(for: .seconds(1)) }
        #expect(plain.steadyStateHypothesis == .standard)
        #expect(plain.applying(try ParameterOverride.parseAll(["steady-p99=50ms"])).steadyStateHypothesis
                == SteadyStateHypothesis(errorRate: 0.01, p99: .milliseconds(50)))
    }
}

@Suite("Blast radius")
struct BlastRadiusTests {
    let radius = BlastRadius(owned: true, members: ["n1", "n2", "n3", "pooler"], subnet: "10.77.0.0/24")
    let topology = Topology(members: [Member(name: "n1", role: .primary, host: "10.77.0.11"),
                                      Member(name: "n2", role: .syncStandby, host: "10.77.0.12:5432"),
                                      Member(name: "n3", role: .asyncReplica, host: "192.168.1.13"),
                                      Member(name: "n4", role: .asyncReplica, host: "10.77.0.14")])

    @Test func aMemberItCreatedInsideItsSubnetMayBeTouched() {
        #expect(radius.problems(.killNode(member: "n1"), in: topology, allowed: []).isEmpty)
        #expect(radius.problems(.killNode(member: "n2"), in: topology, allowed: []).isEmpty, "host:port cut at the colon")
        #expect(radius.problems(.holdSessions(member: "pooler", hold: .poolerConnections), in: topology, allowed: []).isEmpty,
                "a pseudo-member with no address")
    }

    @Test func anUnknownMemberIsRefusedUnlessNamed() {
        let p = radius.problems(.killNode(member: "n4"), in: topology, allowed: [])
        #expect(p == ["member n4 was not created by this environment (it has n1, n2, n3, pooler); name it with --target n4 to inject anyway"])
        #expect(radius.problems(.killNode(member: "n4"), in: topology, allowed: ["n4"]).isEmpty)
        #expect(radius.problems(.stopDCS(members: ["n1", "n4", "n5"]), in: topology, allowed: ["n4"]).count == 1, "n5 still refused")
    }

    @Test func anAddressOutsideTheSubnetIsRefusedUnlessNamed() {
        let p = radius.problems(.stopProcess(member: "n3", process: .postgres), in: topology, allowed: [])
        #expect(p == ["member n3 is at 192.168.1.13, outside the environment's subnet 10.77.0.0/24; name it with --target 192.168.1.13 to inject anyway"])
        #expect(radius.problems(.killNode(member: "n3"), in: topology, allowed: ["192.168.1.13"]).isEmpty)
        #expect(radius.problems(.killNode(member: "n3"), in: topology, allowed: ["n3"]).isEmpty, "the member named lifts both")
        let noSubnet = BlastRadius(owned: true, members: ["n3"], subnet: nil)
        #expect(noSubnet.problems(.killNode(member: "n3"), in: topology, allowed: []).isEmpty)
    }

    @Test func anEnvironmentNotBroughtUpByFaultlineIsRefusedUnlessNamed() {
        let foreign = BlastRadius(owned: false, ownership: "no ownership stamp in /var/lib/faultline", members: ["n1"], subnet: nil)
        let p = foreign.problems(.killNode(member: "n1"), in: topology, allowed: [])
        #expect(p.count == 1)
        #expect(p.first?.contains("not brought up by Faultline (no ownership stamp in /var/lib/faultline)") == true)
        #expect(p.first?.contains("--target environment") == true)
        #expect(foreign.problems(.killNode(member: "n1"), in: topology, allowed: ["environment"]).isEmpty)
        #expect(foreign.problems(.killNode(member: "n9"), in: topology, allowed: ["environment"]).count == 1,
                "naming the environment does not name its members")
    }

    @Test func aStarAllowsAnything() {
        let foreign = BlastRadius(owned: false, members: [], subnet: "10.0.0.0/8")
        #expect(foreign.problems(.stopDCS(members: ["x", "y"]), in: topology, allowed: ["*"]).isEmpty)
    }

    @Test(arguments: [
        ("10.77.0.0/24", "10.77.0.11", true as Bool?), ("10.77.0.0/24", "10.77.0.255", true), ("10.77.0.0/24", "10.77.1.0", false),
        ("10.77.0.0/24", "10.77.0.0", true), ("10.77.0.0/24", "10.76.255.255", false),
        ("10.77.0.0/24", "10.77.0.11:5432", true), ("10.77.0.5/24", "10.77.0.200", true),
        ("10.77.0.1/32", "10.77.0.1", true), ("10.77.0.1/32", "10.77.0.2", false),
        ("0.0.0.0/0", "203.0.113.9", true), ("10.0.0.0/8", "10.255.255.255", true), ("10.0.0.0/8", "11.0.0.0", false),
        ("10.77.0.0/23", "10.77.1.200", true), ("10.77.0.0/23", "10.77.2.1", false),
        ("10.77.0.0/33", "10.77.0.1", nil), ("10.77.0.0", "10.77.0.1", nil), ("10.77.0/24", "10.77.0.1", nil),
        ("10.77.0.0/24", "n1", nil), ("10.77.0.0/24", "10.77.0.256", nil), ("10.77.0.0/24", "", nil),
        ("10.77.0.0/24", "::1", nil), ("10.77.0.0/-1", "10.77.0.1", nil),
    ])
    func cidr(subnet: String, address: String, expected: Bool?) {
        #expect(BlastRadius.contains(subnet: subnet, address: address) == expected)
    }
}

@Suite("Run state machine: safety aborts")
struct SafetyStateMachineTests {
    let scenario = Scenario("hold-kill") {
        Load(.ledgerWrites(rate: 5))
        SteadyState(for: .seconds(10))
        Inject(.killNode(.primary))
        Await(.newPrimary, within: .seconds(30))
        Heal()
        Await(.clusterHealthy(members: 3, sync: 1), within: .seconds(60))
    }

    @Test func duringTheSteadyStateNoHealIsOwed() {
        let (a, m) = drive(scenario) { $0 == .holdSteadyState(.seconds(10)) ? .aborted("steady state not met") : .completed }
        #expect(Array(a.suffix(4)) == [.holdSteadyState(.seconds(10)), .stopLoad, .verifyWrites, .finish])
        #expect(!a.contains { if case .heal = $0 { true } else { false } })
        #expect(!a.contains { if case .inject = $0 { true } else { false } })
        #expect(m.safetyAbort == "steady state not met")
        #expect(m.abort == nil, "an abort is not a harness failure: the writes are read back")
    }

    @Test func duringAnAwaitAfterTheInjectHealsThenReadsBackWithoutObserving() {
        let (a, m) = drive(scenario) { if case .await(step: 1, _, _) = $0 { .aborted("error rate") } else { .completed } }
        #expect(Array(a.suffix(5)) == [.await(step: 1, .newPrimary, within: .seconds(30)), .heal(step: nil), .stopLoad, .verifyWrites, .finish])
        #expect(!a.contains(.heal(step: 2)), "the remaining steps are skipped")
        #expect(!a.contains { if case .observe = $0 { true } else { false } }, "no observation window after an abort")
        #expect(m.safetyAbort == "error rate")
        #expect(!m.healOwed && !m.loadRunning)
    }

    @Test func duringAnInjectHeals() {
        let (a, m) = drive(scenario) { if case .inject = $0 { .aborted("refused") } else { .completed } }
        #expect(Array(a.suffix(4)) == [.heal(step: nil), .stopLoad, .verifyWrites, .finish])
        #expect(m.safetyAbort == "refused")
    }

    @Test func duringAnOperationAHealIsOwed() {
        let s = Scenario("backup") {
            Load(.ledgerWrites(rate: 5))
            SteadyState(for: .seconds(1))
            Backup()
            Hold(for: .seconds(5))
        }
        let (a, m) = drive(s) { if case .operate = $0 { .aborted("facilitator") } else { .completed } }
        #expect(Array(a.suffix(5)) == [.operate(step: 0, .backup(.full, repo: nil)), .heal(step: nil), .stopLoad, .verifyWrites, .finish])
        #expect(!a.contains(.holdSteadyState(.seconds(5))))
        #expect(m.safetyAbort == "facilitator")
        // Without the abort an operation owes no heal.
        #expect(!drive(s).actions.contains(.heal(step: nil)))
    }

    @Test func duringTheCleanupHealItGoesOnToReadBack() {
        var calls = 0
        let (a, m) = drive(scenario) { action in
            if case .await(step: 1, _, _) = action { return .aborted("first") }
            if action == .heal(step: nil) { calls += 1; return .aborted("during the heal") }
            return .completed
        }
        #expect(calls == 1, "the cleanup heal is not repeated")
        #expect(Array(a.suffix(4)) == [.heal(step: nil), .stopLoad, .verifyWrites, .finish])
        #expect(m.safetyAbort == "first", "a second abort is ignored: the first reason stays")
    }

    @Test func anAbortFirstDuringTheCleanupHealStillReadsBack() {
        let (a, m) = drive(scenario) { action in
            if case .await(step: 1, _, _) = action { return .cancelled }
            if action == .heal(step: nil) { return .aborted("late") }
            return .completed
        }
        #expect(Array(a.suffix(3)) == [.heal(step: nil), .stopLoad, .finish], "cancelled first: no read-back")
        #expect(m.abort == .cancelled)
        #expect(m.safetyAbort == "late")
    }

    @Test func aSecondAbortLaterIsIgnored() {
        let (a, m) = drive(scenario) { action in
            switch action {
            case .await(step: 1, _, _): .aborted("first")
            case .stopLoad, .verifyWrites: .aborted("second")
            default: .completed
            }
        }
        #expect(Array(a.suffix(4)) == [.heal(step: nil), .stopLoad, .verifyWrites, .finish])
        #expect(a.filter { $0 == .heal(step: nil) }.count == 1)
        #expect(m.safetyAbort == "first")
    }

    @Test func lastStepStartedFollowsTheSteps() {
        var m = RunStateMachine(scenario: scenario)
        var action = m.start()
        var started: [Int?] = []
        while action != .finish { started.append(m.lastStepStarted); action = m.handle(.completed) }
        #expect(started.prefix(3) == [nil, nil, nil], "preflight, load, steady state: no step yet")
        #expect(Array(started.dropFirst(3).prefix(4)) == [0, 1, 2, 3])
    }
}

@Suite("Safety limits in report.json")
struct SafetyCodingTests {
    @Test func aScenariosSafetyLimitsRoundTripWithTheConditionsAsText() throws {
        let s = Scenario("safe") {
            Load(.ledgerWrites(rate: 10))
            SteadyState(for: .seconds(5), errorRate: 0.02, p99: .milliseconds(300))
            Abort(when: .errorRate(above: 0.5, for: .seconds(60)))
            Abort(when: .diskFree(below: 0.05))
            Inject(.killNode(.primary))
        }
        let data = try JSONEncoder().encode(s)
        let text = String(decoding: data, as: UTF8.self)
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let safety = try #require(json["safety"] as? [String: Any])
        #expect(safety["abort"] as? [String] == ["error-rate>50%/1m", "disk-free<5%"], "\(text)")
        #expect((safety["steadyState"] as? [String: Any])?["p99Ms"] as? Int == 300)
        let back = try JSONDecoder().decode(Scenario.self, from: data)
        #expect(back == s)
        #expect(back.steadyStateHypothesis == SteadyStateHypothesis(errorRate: 0.02, p99: .milliseconds(300)))
        // A report without them (older, or an ordinary scenario) reads as the standard hypothesis, no condition.
        let plain = try JSONDecoder().decode(Scenario.self, from: try JSONEncoder().encode(Scenario(name: "plain")))
        #expect(plain.safety == nil && plain.steadyStateHypothesis == .standard && plain.abortConditions.isEmpty)
        // A condition that does not parse is a decoding error that says why.
        let bad = text.replacingOccurrences(of: "disk-free<5%", with: "cpu>5%")
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Scenario.self, from: Data(bad.utf8)) }
    }
}
