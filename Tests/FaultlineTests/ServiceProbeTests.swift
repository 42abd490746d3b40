import Foundation
import Testing
@testable import Faultline
import FaultlineReports
import Scenarios

/// Probe attempts every `interval` ms from 0 to `end`, each answered 2 ms after it started; `bad(start)` fails it.
func probeFixture(until end: Int, interval: Int = 20, bad: (Int) -> Bool) -> ServiceProbeReport {
    let attempts = stride(from: 0, to: end, by: interval).map { t in
        ServiceProbeAttempt(intendedMs: Double(t), startMs: Double(t), endMs: Double(t + 2), outcome: bad(t) ? .connectionRefused : .ok)
    }
    return ServiceProbeReport(intervalMs: interval, connectTimeoutMs: 500, statementTimeoutMs: 500, attempts: attempts)
}

@Suite("Service probe: service restored and application recovered")
struct ServiceProbeTests {
    func rto(_ s: Scenario, _ obs: Observations) throws -> Verdict {
        try #require(Assertions.evaluate(s, obs).first { $0.id == "rto" })
    }

    /// The 20 s outage of `Fixture.outage20s`, whose workload's first write comes back at +20.005 s, with a probe
    /// acknowledged again at 29.202 s: 0.8 s before the workload, whose clients were still in their backoff.
    func probeBeatsTheBackoff() -> Observations {
        var obs = Fixture.outage20s()
        obs.load.probe = probeFixture(until: 60_000) { (10_000..<29_200).contains($0) }
        return obs
    }

    @Test func twoInstantsAndTheVerdictJudgesTheProbe() throws {
        let obs = probeBeatsTheBackoff()
        let r = try #require(RecoveryAnalysis.analyze(obs, sustain: .seconds(1)))
        #expect(r.serviceRestoredMs == 19_202)
        #expect(r.recoveryMs == 20_005)
        #expect(r.applicationRecoveredMs == 20_005)
        #expect(r.probeOutageStartMs == 2)
        #expect(r.probeIntervalMs == 20)
        // Routing: the probe's first ack after the new leader was seen (25 s), not the workload's.
        #expect(r.firstWriteAfterPromotionMs == 19_202)

        #expect(killPrimary.targets.rtoJudges == .serviceRestored)
        let v = try rto(killPrimary, obs)
        #expect(v.title == "RTO (service restored, from the injection)")
        #expect(v.result == .passed(measured: .ms(19_202), target: .ms(30_000)))
        #expect(v.notes.contains("service restored (service probe: a write every 20 ms, no backoff): +19.2 s"))
        #expect(v.notes.contains("application recovered (the workload, with its clients' reconnect backoff): +20.0 s"))
        #expect(v.notes.contains("routing (first probe write after promotion): +19.2 s"))
        #expect(!v.notes.contains { $0.contains("no service-probe data") })
    }

    @Test func setSwitchJudgesTheApplicationInstant() throws {
        let s = killPrimary.applying(try ParameterOverride.parseAll(["rto-judges=application"]))
        #expect(s.targets.rtoJudges == .applicationRecovered)
        let v = try rto(s, probeBeatsTheBackoff())
        #expect(v.title == "RTO (application recovered, from the injection)")
        #expect(v.result == .passed(measured: .ms(20_005), target: .ms(30_000)))
        // Both instants are still given.
        #expect(v.notes.contains("service restored (service probe: a write every 20 ms, no backoff): +19.2 s"))
        // And back: a later --set wins.
        let back = s.applying(try ParameterOverride.parseAll(["rto_judges=service"]))
        #expect(try rto(back, probeBeatsTheBackoff()).result == .passed(measured: .ms(19_202), target: .ms(30_000)))
    }

    @Test func aTightTargetFailsOnTheProbeButWouldPassOnNeither() throws {
        // 19.5 s: the service restored in time, the application did not.
        let s = killPrimary.applying([.init(parameter: .rto, value: .duration(.milliseconds(19_500)))])
        #expect(try rto(s, probeBeatsTheBackoff()).result.status == .passed)
        let app = s.applying([.init(parameter: .rtoJudges, value: .instant(.applicationRecovered))])
        #expect(try rto(app, probeBeatsTheBackoff()).result.status == .failed)
    }

    @Test func probeWithoutErrorsIsRestoredAtOnce() throws {
        var obs = Fixture.outage20s()
        obs.load.probe = probeFixture(until: 60_000) { _ in false }
        let r = try #require(RecoveryAnalysis.analyze(obs, sustain: .seconds(1)))
        #expect(r.serviceRestoredMs == 0)
        #expect(r.probeOutageStartMs == nil)
        let v = try rto(killPrimary, obs)
        #expect(v.result == .passed(measured: .ms(0), target: .ms(30_000)))
        #expect(v.notes.contains("no service-probe errors after injection"))
    }

    @Test func probeThatNeverRecoversFails() throws {
        var obs = Fixture.neverRecovers()
        obs.load.probe = probeFixture(until: 60_000) { $0 >= 10_000 }
        let r = try #require(RecoveryAnalysis.analyze(obs, sustain: .seconds(1)))
        #expect(r.serviceRestoredMs == nil)
        let v = try rto(killPrimary, obs)
        #expect(v.title == "RTO (service restored, from the injection)")
        guard case .failed(nil, .ms(30_000), let why) = v.result else { Issue.record("\(v.result)"); return }
        #expect(why.contains("never recovered"))
        #expect(why.contains("service probe"))
    }

    @Test func aShortProbeFlapIsNotRecoveryAndTooLittleDataIsNone() {
        // Errors 10–20 s with 500 ms of acks at 15 s: with 1 s sustain, restored at 20.002 s.
        let flap = probeFixture(until: 60_000) { (10_000..<20_000).contains($0) && !(15_000..<15_500).contains($0) }
        #expect(flap.recovery(after: 10_000, sustainMs: 1_000) == (2, 10_002))
        #expect(flap.recovery(after: 10_000, sustainMs: 400) == (2, 5_002))
        // Acks again at 29.2 s, but the probe's data ends 0.5 s later: not enough to call it restored.
        let short = probeFixture(until: 29_700) { $0 >= 10_000 && $0 < 29_200 }
        #expect(short.recovery(after: 10_000, sustainMs: 1_000).restoredMs == nil)
        // An error exactly one sustain after the ack does not undo it.
        let late = probeFixture(until: 40_000) { ($0 >= 10_000 && $0 < 20_000) || $0 == 21_000 }
        #expect(late.recovery(after: 10_000, sustainMs: 1_000).restoredMs == 10_002)
        // No data after the injection at all: neither an outage nor a recovery.
        #expect(probeFixture(until: 5_000) { _ in false }.recovery(after: 10_000, sustainMs: 1_000) == (nil, nil))
    }

    @Test func withoutProbeDataTheApplicationInstantIsJudgedAndSaid() throws {
        let v = try rto(killPrimary, Fixture.outage20s())
        #expect(v.title == "RTO (application recovered, from the injection)")
        #expect(v.result == .passed(measured: .ms(20_005), target: .ms(30_000)))
        #expect(v.notes.contains { $0.contains("no service-probe data") })
        #expect(!v.notes.contains { $0.hasPrefix("service restored") })
    }

    @Test func rtoJudgesParsesAndRefuses() throws {
        for (text, want) in [("service", RTOInstant.serviceRestored), ("service-restored", .serviceRestored), ("probe", .serviceRestored),
                             ("application", .applicationRecovered), ("Application_Recovered", .applicationRecovered), ("app", .applicationRecovered)] {
            #expect(try ParameterOverride.parse("rto-judges=\(text)") == .init(parameter: .rtoJudges, value: .instant(want)))
        }
        #expect(throws: InputError.self) { try ParameterOverride.parse("rto-judges=both") }
        #expect(throws: InputError.self) { try ParameterOverride.parse("rto-judges=5s") }
    }

    @Test func markdownShowsBothInstants() throws {
        let obs = probeBeatsTheBackoff()
        let report = RunReport(runId: "kill-primary-20261125-100000Z", scenario: killPrimary, environment: "local",
                               startedAt: "2026-11-25T10:00:00Z", durationMs: 95_250, observations: obs,
                               judgement: Judgement(killPrimary, obs))
        let md = Render.markdown(report)
        #expect(md.contains("| RTO (service restored, from the injection) | ✅ passed | 19.2 s | ≤ 30.0 s |"))
        #expect(md.contains("| service restored: sustained probe writes (every 20 ms, no backoff) | +19.2 s |"))
        #expect(md.contains("| application recovered: sustained workload writes | +20.0 s |"))
    }
}

@Suite("Service probe data in JSON")
struct ServiceProbeCodingTests {
    @Test func loadObservationsRoundTripWithAndWithoutProbe() throws {
        var obs = Fixture.writes(until: 2_000) { _ in false }
        obs.probe = probeFixture(until: 1_000) { (200..<400).contains($0) }
        obs.probe?.notes = ["a note"]
        obs.originWallClock = "2026-11-25T10:00:00.123Z"
        let data = try JSONEncoder().encode(obs)
        #expect(try JSONDecoder().decode(LoadObservations.self, from: data) == obs)
        // Attempts are compact arrays.
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains(#"[200,200,202,"connection_refused"]"#))
        #expect(text.contains(#""originWallClock":"2026-11-25T10:00:00.123Z""#))

        var without = obs
        without.probe = nil
        without.originWallClock = nil
        let plain = try JSONEncoder().encode(without)
        let plainText = String(decoding: plain, as: UTF8.self)
        #expect(!plainText.contains("probe") && !plainText.contains("originWallClock"), "absent, not null")
        #expect(try JSONDecoder().decode(LoadObservations.self, from: plain) == without)
    }

    @Test func olderDocumentsDecode() throws {
        // What a load wrote before the probe existed.
        let old = #"{"windows":[],"acked":[],"indeterminate":[],"latency":{},"totals":{},"notes":[]}"#
        let obs = try JSONDecoder().decode(LoadObservations.self, from: Data(old.utf8))
        #expect(obs.probe == nil && obs.originWallClock == nil)
        let rec = #"{"injectedAtMs":10000,"recoveryMs":20005,"observedMs":50000}"#
        let r = try JSONDecoder().decode(RecoveryAnalysis.self, from: Data(rec.utf8))
        #expect(r.recoveryMs == 20_005 && r.serviceRestoredMs == nil && !r.hasProbe)
        // Targets without rtoJudges take the default; with it, round-trip.
        var t = Targets()
        let encoded = try JSONSerialization.jsonObject(with: JSONEncoder().encode(t)) as? [String: Any]
        #expect(encoded?["rtoJudges"] as? String == "service-restored")
        var dict = try #require(encoded)
        dict["rtoJudges"] = nil
        let oldTargets = try JSONDecoder().decode(Targets.self, from: JSONSerialization.data(withJSONObject: dict))
        #expect(oldTargets.rtoJudges == .serviceRestored)
        t.rtoJudges = .applicationRecovered
        #expect(try JSONDecoder().decode(Targets.self, from: JSONEncoder().encode(t)) == t)
    }

    @Test func reportRoundTripKeepsTheRecovery() throws {
        let obs = { var o = Fixture.outage20s(); o.load.probe = probeFixture(until: 60_000) { (10_000..<29_200).contains($0) }; return o }()
        let report = RunReport(runId: "r", scenario: killPrimary, environment: "local", startedAt: "2026-11-25T10:00:00Z",
                               durationMs: 1, observations: obs, judgement: Judgement(killPrimary, obs))
        let back = try JSONDecoder().decode(RunReport.self, from: JSONEncoder().encode(report))
        #expect(back == report)
        #expect(back.recovery?.serviceRestoredMs == 19_202)
    }
}
