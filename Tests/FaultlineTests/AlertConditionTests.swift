import Foundation
import Logging
import Scenarios
import Testing
@testable import Faultline

/// Alert conditions: recorded Alertmanager and Prometheus answers, the condition logic, and the runner
/// waiting for an alert to fire and to resolve.
@Suite struct AlertConditionTests {
    /// Recorded from the local environment's Alertmanager (`GET /api/v2/alerts`, ci profile) 3.6 s after
    /// SIGKILL of the primary's Patroni and PostgreSQL: the primary-down alert and the dead Patroni's target.
    static let alertmanagerKillPrimary = #"""
[{"annotations":{"description":"No Patroni member reports role primary with PostgreSQL running (or none is reachable).","summary":"No node runs a PostgreSQL primary"},"endsAt":"2026-11-25T13:56:29.948Z","fingerprint":"b0dcd39a0f7d19a6","receivers":[{"name":"faultline-null"}],"startsAt":"2026-11-25T13:52:29.948Z","status":{"inhibitedBy":[],"silencedBy":[],"state":"active"},"updatedAt":"2026-11-25T13:52:29.952Z","generatorURL":"http://vm:9090/graph?g0.expr=%28count%28%28patroni_primary%7Bjob%3D%22patroni%22%7D+%3D%3D+1%29+and+on+%28instance%29+%28patroni_postgres_running%7Bjob%3D%22patroni%22%7D+%3D%3D+1%29%29+or+vector%280%29%29+%3C+1\u0026g0.tab=1","labels":{"alertname":"FaultlinePrimaryDown","cluster":"faultline","severity":"critical"}},{"annotations":{"description":"Scrape target or the service behind its exporter is unreachable.","summary":"patroni on fl-n1 is down"},"endsAt":"2026-11-25T13:56:29.948Z","fingerprint":"d02132b213a8321a","receivers":[{"name":"faultline-null"}],"startsAt":"2026-11-25T13:52:29.948Z","status":{"inhibitedBy":[],"silencedBy":[],"state":"active"},"updatedAt":"2026-11-25T13:52:29.953Z","generatorURL":"http://vm:9090/graph?g0.expr=%28up%7Bjob%21%3D%22load%22%7D+%3D%3D+0%29+or+%28pgbouncer_up%7Bjob%3D%22pgbouncer%22%7D+%3D%3D+0%29+or+%28pg_up%7Bjob%3D%22postgres%22%7D+%3D%3D+0%29\u0026g0.tab=1","labels":{"alertname":"FaultlineTargetDown","cluster":"faultline","instance":"10.82.0.11:8008","job":"patroni","node":"fl-n1","severity":"info"}}]

"""#

    /// Recorded at the same moment from Prometheus (`GET /api/v1/alerts`): one alert still pending.
    static let prometheusKillPrimary = #"""
{"status":"success","data":{"alerts":[{"labels":{"alertname":"FaultlinePrimaryDown","severity":"critical"},"annotations":{"description":"No Patroni member reports role primary with PostgreSQL running (or none is reachable).","summary":"No node runs a PostgreSQL primary"},"state":"firing","activeAt":"2026-11-25T13:52:26.948061393Z","value":"0e+00"},{"labels":{"alertname":"FaultlineTargetDown","instance":"10.82.0.11:8008","job":"patroni","node":"fl-n1","severity":"info"},"annotations":{"description":"Scrape target or the service behind its exporter is unreachable.","summary":"patroni on fl-n1 is down"},"state":"firing","activeAt":"2026-11-25T13:52:26.948061393Z","value":"0e+00"},{"labels":{"alertname":"FaultlineTargetDown","instance":"10.82.0.11:9187","job":"postgres","node":"fl-n1","severity":"info"},"annotations":{"description":"Scrape target or the service behind its exporter is unreachable.","summary":"postgres on fl-n1 is down"},"state":"pending","activeAt":"2026-11-25T13:52:28.948061393Z","value":"0e+00"}]}}
"""#

    /// Recorded 8.6 s after SIGSTOP of the async replica's startup (replay) process under load: the
    /// critical lag alert inhibits the warning for the same node, which Alertmanager lists as suppressed.
    static let alertmanagerReplayStopped = #"""
[{"annotations":{"description":"Replication lag is 9s.","summary":"Replica fl-n3 lags more than 6s"},"endsAt":"2026-11-25T14:09:22.948Z","fingerprint":"a06c20e609406dd1","receivers":[{"name":"faultline-null"}],"startsAt":"2026-11-25T14:05:22.948Z","status":{"inhibitedBy":[],"silencedBy":[],"state":"active"},"updatedAt":"2026-11-25T14:05:22.951Z","generatorURL":"http://vm:9090/graph?g0.expr=faultline%3Areplication_lag_seconds+%3E+6\u0026g0.tab=1","labels":{"alertname":"FaultlineReplicationLagCritical","cluster":"faultline","instance":"10.82.0.13:8008","job":"patroni","name":"n3","node":"fl-n3","scope":"faultline","severity":"critical"}},{"annotations":{"description":"Replication lag is 6s.","summary":"Replica fl-n3 lags more than 3s"},"endsAt":"2026-11-25T14:09:19.948Z","fingerprint":"f09ce100100e53cb","receivers":[{"name":"faultline-null"}],"startsAt":"2026-11-25T14:05:19.948Z","status":{"inhibitedBy":["a06c20e609406dd1"],"silencedBy":[],"state":"suppressed"},"updatedAt":"2026-11-25T14:05:19.951Z","generatorURL":"http://vm:9090/graph?g0.expr=faultline%3Areplication_lag_seconds+%3E+3\u0026g0.tab=1","labels":{"alertname":"FaultlineReplicationLagWarning","cluster":"faultline","instance":"10.82.0.13:8008","job":"patroni","name":"n3","node":"fl-n3","scope":"faultline","severity":"warning"}}]

"""#

    @Test func anInhibitedWarningStillCountsAsFiring() throws {
        let alerts = try JSONDecoder().decode([AlertmanagerAlert].self, from: Data(Self.alertmanagerReplayStopped.utf8)).compactMap(\.activeAlert)
        #expect(alerts.map(\.state) == [.firing, .suppressed])
        #expect(alerts.allSatisfy { $0.labels["node"] == "fl-n3" })
        #expect(Condition.alertFiring(AlertName.replicationLagWarning).holds(alerts: alerts))
        #expect(!Condition.alertResolved(AlertName.replicationLagWarning).holds(alerts: alerts))
        #expect(ActiveAlert.summary(alerts) == "FaultlineReplicationLagCritical node=fl-n3 firing, FaultlineReplicationLagWarning node=fl-n3 suppressed")
    }

    @Test func decodesAlertmanagersAnswer() throws {
        let alerts = try JSONDecoder().decode([AlertmanagerAlert].self, from: Data(Self.alertmanagerKillPrimary.utf8)).compactMap(\.activeAlert)
        #expect(alerts.map(\.name) == [AlertName.primaryDown, AlertName.targetDown])
        #expect(alerts.allSatisfy { $0.state == .firing && $0.isFiring })
        #expect(alerts[1].labels["node"] == "fl-n1" && alerts[1].labels["job"] == "patroni")
        #expect(alerts[0].since == "2026-11-25T13:52:29.948Z")
        #expect(ActiveAlert.summary(alerts) == "FaultlinePrimaryDown firing, FaultlineTargetDown node=fl-n1 firing")
    }

    @Test func decodesPrometheusAnswerWithPendingAlerts() throws {
        let r = try JSONDecoder().decode(PrometheusAlertsResponse.self, from: Data(Self.prometheusKillPrimary.utf8))
        let alerts = r.activeAlerts
        #expect(r.status == "success")
        #expect(alerts.count == 3)
        #expect(alerts.filter(\.isFiring).map(\.name) == [AlertName.primaryDown, AlertName.targetDown])
        let pending = try #require(alerts.first { $0.state == .pending })
        #expect(pending.labels["job"] == "postgres" && !pending.isFiring)
    }

    @Test func alertmanagerStatesMapToFiringOrNot() throws {
        func alert(_ state: String) throws -> AlertmanagerAlert {
            try JSONDecoder().decode(AlertmanagerAlert.self, from: Data(#"{"labels":{"alertname":"A"},"status":{"state":"\#(state)"}}"#.utf8))
        }
        #expect(try alert("active").activeAlert?.state == .firing)
        #expect(try alert("suppressed").activeAlert?.state == .suppressed)
        #expect(try alert("unprocessed").activeAlert?.isFiring == true)
        #expect(try alert("resolved").activeAlert == nil)
        let nameless = try JSONDecoder().decode(AlertmanagerAlert.self, from: Data(#"{"labels":{},"status":{"state":"active"}}"#.utf8))
        #expect(nameless.activeAlert == nil)
    }

    @Test func firingAndResolvedConditions() {
        let down = ActiveAlert(name: AlertName.primaryDown)
        let lagWarnInhibited = ActiveAlert(name: AlertName.replicationLagWarning, labels: ["node": "fl-n2"], state: .suppressed)
        let pending = ActiveAlert(name: AlertName.longRunningQuery, state: .pending)
        let firing = Condition.alertFiring(AlertName.primaryDown)
        let resolved = Condition.alertResolved(AlertName.primaryDown)
        #expect(firing.holds(alerts: [down]))
        #expect(!firing.holds(alerts: []))
        #expect(!firing.holds(alerts: [ActiveAlert(name: AlertName.targetDown)]), "another alert is not this one")
        #expect(Condition.alertFiring(AlertName.replicationLagWarning).holds(alerts: [lagWarnInhibited]), "inhibited still fires")
        #expect(!Condition.alertFiring(AlertName.longRunningQuery).holds(alerts: [pending]), "pending: for: not elapsed")
        #expect(Condition.alertResolved(AlertName.longRunningQuery).holds(alerts: [pending]))
        #expect(resolved.holds(alerts: []) && !resolved.holds(alerts: [down]))
        #expect(firing.readsAlerts && resolved.readsAlerts && !Condition.newPrimary.readsAlerts)
        #expect(!Condition.newPrimary.holds(alerts: [down]))
        let t = Topology(members: [Member(name: "n1", role: .primary)])
        #expect(!firing.holds(in: t, ConditionContext(primaryAtInjection: "n1", primaryLostSinceInjection: true)))
    }

    @Test func lastSeenSaysWhatWasListed() {
        let pending = ActiveAlert(name: AlertName.longRunningQuery, state: .pending, since: "T")
        #expect(Condition.alertsSeen([], for: .alertFiring("X")) == "X not listed; alerts: no alerts")
        #expect(Condition.alertsSeen([pending], for: .alertFiring(AlertName.longRunningQuery)).hasPrefix("FaultlineLongRunningQuery pending since T"))
        #expect(Condition.alertsSeen([ActiveAlert(name: "X")], for: .alertResolved("X")) == "still firing: X firing")
    }

    @Test func conditionsRoundTripThroughJSON() throws {
        for c in [Condition.alertFiring(AlertName.diskUsageHigh), .alertResolved(AlertName.diskUsageHigh)] {
            let data = try JSONEncoder().encode(c)
            #expect(String(decoding: data, as: UTF8.self).contains(#""alert":"FaultlineDiskUsageHigh""#))
            #expect(try JSONDecoder().decode(Condition.self, from: data) == c)
        }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Condition.self, from: Data(#"{"kind":"alert-firing"}"#.utf8)) }
        #expect(Condition.alertFiring("A").description == "alert A firing")
    }

    // MARK: - the runner

    /// A healthy cluster whose alerting lists `alert` from `fireAfter` after the fault until `resolveAfter` after the heal.
    actor AlertingCluster: Environment {
        let clock: VirtualClock
        let alert: String
        let fireAfter: Duration?
        let resolveAfter: Duration
        var injectedAt: VirtualClock.Instant?
        var healedAt: VirtualClock.Instant?
        var reads = 0

        init(clock: VirtualClock, alert: String, fireAfter: Duration?, resolveAfter: Duration = .seconds(2)) {
            self.clock = clock
            self.alert = alert
            self.fireAfter = fireAfter
            self.resolveAfter = resolveAfter
        }

        func topology() async throws -> Topology {
            Topology(members: [Member(name: "n1", role: .primary, timeline: 1), Member(name: "n2", role: .syncStandby, timeline: 1),
                               Member(name: "n3", role: .asyncReplica, timeline: 1)])
        }
        func apply(_ action: FaultAction) async throws { injectedAt = clock.now }
        func revert(_ reversal: Reversal) async throws {}
        func heal() async throws { healedAt = clock.now }
        func activeAlerts() async throws -> [ActiveAlert] {
            reads += 1
            let now = clock.now
            guard let i = injectedAt, let f = fireAfter, now >= i.advanced(by: f) else { return [ActiveAlert(name: AlertName.targetDown)] }
            if let h = healedAt, now >= h.advanced(by: resolveAfter) { return [] }
            return [ActiveAlert(name: alert), ActiveAlert(name: AlertName.targetDown)]
        }
    }

    func scenario(_ alert: String) -> Scenario {
        Scenario("alert-check") {
            Targets(rto: .seconds(30), lostWrites: 0, settle: .seconds(60))
            Load(.replicaReads(rate: 10))
            SteadyState(for: .seconds(1))
            Inject(.killPostgres(.asyncReplica))
            Await(.alertFiring(alert), within: .seconds(10))
            Heal()
            Expect(.alertResolved(alert), within: .seconds(10))
        }
    }

    func run(fireAfter: Duration?) async -> (Observations, [Verdict], Int) {
        let clock = VirtualClock()
        let journal = Journal()
        let env = AlertingCluster(clock: clock, alert: AlertName.longRunningQuery, fireAfter: fireAfter)
        let runner = Runner(environment: env, load: FakeLoad(observations: LoadObservations(), journal: journal),
                            ledger: InMemoryLedger(journal: journal), clock: clock, runId: "r1", logger: Logger(label: "test"))
        let s = scenario(AlertName.longRunningQuery)
        let obs = await runner.run(s)
        return (obs, Assertions.evaluate(s, obs), await env.reads)
    }

    @Test func runnerMeasuresFiringAndResolution() async throws {
        let (obs, verdicts, _) = await run(fireAfter: .milliseconds(3_500))
        #expect(obs.conditions.count == 2)
        let fired = try #require(obs.conditions.first)
        #expect((3_500...3_700).contains(fired.elapsedMs ?? -1), "first poll after the alert appears: \(String(describing: fired.elapsedMs))")
        let resolved = try #require(obs.conditions.last)
        #expect((2_000...2_200).contains(resolved.elapsedMs ?? -1))
        let v = try #require(verdicts.first { $0.id == "await-alert-firing" })
        #expect(v.result.status == .passed && v.result.measured == .ms(fired.elapsedMs!))
        #expect(verdicts.first { $0.id == "settle-alert-resolved" }?.result.status == .passed)
    }

    /// The fake cluster's failover with alerting derived from its topology the way the rule does it:
    /// FaultlinePrimaryDown fires once no member has been primary for `for:`, and clears with a primary.
    actor PrimaryDownRule: Environment {
        let cluster: FakeCluster
        let clock: VirtualClock
        let hold: Duration
        var noPrimarySince: VirtualClock.Instant?
        var firedAt: VirtualClock.Instant?

        init(_ cluster: FakeCluster, clock: VirtualClock, for hold: Duration) {
            self.cluster = cluster
            self.clock = clock
            self.hold = hold
        }

        func topology() async throws -> Topology { try await cluster.topology() }
        func apply(_ action: FaultAction) async throws { try await cluster.apply(action) }
        func revert(_ reversal: Reversal) async throws { try await cluster.revert(reversal) }
        func heal() async throws { try await cluster.heal() }
        func activeAlerts() async throws -> [ActiveAlert] {
            let now = clock.now
            guard try await cluster.topology().primary == nil else { noPrimarySince = nil; return [] }
            let since = noPrimarySince ?? now
            noPrimarySince = since
            guard now >= since.advanced(by: hold) else { return [ActiveAlert(name: AlertName.primaryDown, state: .pending)] }
            if firedAt == nil { firedAt = now }
            return [ActiveAlert(name: AlertName.primaryDown)]
        }
    }

    @Test func killPrimaryExpectsPrimaryDownToFireAndResolve() async throws {
        let s = Scenarios.killPrimary
        #expect(s.steps.contains(.expect(.alertFiring(AlertName.primaryDown), within: .seconds(30))))
        #expect(s.steps.last == .expect(.alertResolved(AlertName.primaryDown), within: .seconds(30)))
        #expect(s.withoutAlertSteps.steps.count == s.steps.count - 2)
        let clock = VirtualClock()
        let journal = Journal()
        let (stream, cont) = AsyncStream<Void>.makeStream()
        _ = stream
        // The fake shows no primary from 1 s after the kill until n2 is promoted at 3 s.
        let env = PrimaryDownRule(FakeCluster(clock: clock, journal: journal, applyStarted: cont), clock: clock, for: .seconds(1))
        let runner = Runner(environment: env, load: FakeLoad(observations: LoadObservations(), journal: journal, clock: clock),
                            ledger: InMemoryLedger(journal: journal), clock: clock, runId: "r1", logger: Logger(label: "test"))
        let obs = await runner.run(s)
        let verdicts = Assertions.evaluate(s, obs)
        let fired = try #require(verdicts.first { $0.id == "expect-alert-firing" })
        #expect(fired.result.status == .passed, "\(fired.result)")
        let firedMs = try #require(fired.result.measured?.value)
        #expect((2_000...2_300).contains(Int(firedMs)), "1 s to lose the primary + 1 s for:, seen on the next poll: \(firedMs)")
        #expect(verdicts.first { $0.id == "await-new-primary" }?.result.status == .passed)
        #expect(verdicts.first { $0.id == "settle-alert-resolved" }?.result.status == .passed)
        #expect(ExitStatus.of(verdicts) == .passed, "\(verdicts.filter { $0.result.status != .passed })")
    }

    @Test func anAlertThatNeverFiresFailsWithTheTimeWaited() async throws {
        let (obs, verdicts, reads) = await run(fireAfter: nil)
        #expect(reads > 40, "polled about every 200 ms for 10 s")
        let v = try #require(verdicts.first { $0.id == "await-alert-firing" })
        #expect(v.result.status == .failed)
        let why = try #require(v.result.message)
        #expect(why.contains("not met within 10.0 s"), "\(why)")
        #expect(why.contains("FaultlineLongRunningQuery not listed; alerts: FaultlineTargetDown firing"), "\(why)")
        #expect(obs.events.contains { $0.kind == .conditionTimedOut && $0.detail?.contains("alert FaultlineLongRunningQuery firing") == true })
        #expect(ExitStatus.of(verdicts) == .targetFailed)
    }
}
