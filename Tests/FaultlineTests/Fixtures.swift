import Testing
@testable import Faultline

/// The verdict `id` of `vs`, or a test failure naming the ids there are.
func verdict(_ id: String, _ vs: [Verdict]) throws -> Verdict {
    try #require(vs.first { $0.id == id }, "no verdict \(id) in \(vs.map(\.id))")
}

/// Drives a state machine with `event(action)` until it finishes (at most 50 actions); the actions in order.
func drive(_ s: Scenario, _ event: (RunStateMachine.Action) -> RunStateMachine.Event = { _ in .completed })
    -> (actions: [RunStateMachine.Action], machine: RunStateMachine) {
    var m = RunStateMachine(scenario: s)
    var actions = [m.start()]
    while actions.last != .finish, actions.count < 50 { actions.append(m.handle(event(actions.last!))) }
    return (actions, m)
}

/// Hand-built recordings. Time is ms since load start; windows are 100 ms; writes at 200/s (20 a window).
enum Fixture {
    static let injectAt = 10_000

    /// Write windows from 0 to `end`; `bad(start)` says which windows saw only errors.
    /// Each clean window acknowledges 20 writes, the first 5 ms into the window.
    static func writes(until end: Int, p99Us: Int = 2_000, bad: (Int) -> Bool) -> LoadObservations {
        var obs = LoadObservations()
        var seq = 0
        for start in stride(from: 0, to: end, by: 100) {
            if bad(start) {
                obs.windows.append(TimelineWindow(startMs: start, workload: "ledger-writes", errors: [.connectionRefused: 20]))
            } else {
                obs.windows.append(TimelineWindow(startMs: start, workload: "ledger-writes", ok: 20,
                                                  p50Us: 800, p95Us: 1_500, p99Us: p99Us, maxUs: p99Us * 2))
                for k in 0..<20 {
                    seq += 1
                    obs.acked.append(AckedWrite(id: "w1-\(seq)", startMs: Double(start + k * 5), ackMs: Double(start + 5 + k * 5),
                                                server: start < injectAt ? "10.77.0.11/tl1" : "10.77.0.12/tl2"))
                }
            }
        }
        return obs
    }

    static func events(lostAt: Int? = 10_400, electedAt: Int? = 25_000, healedAt: Int? = 40_000) -> [TimelineEvent] {
        var e = [TimelineEvent(atMs: 0, kind: .loadStarted),
                 TimelineEvent(atMs: injectAt, kind: .faultInjected, member: "n1", detail: "SIGKILL patroni and postgres on n1")]
        if let lostAt { e.append(TimelineEvent(atMs: lostAt, kind: .leaderLost, member: "n1")) }
        if let electedAt { e.append(TimelineEvent(atMs: electedAt, kind: .leaderElected, member: "n2")) }
        if let healedAt {
            e.append(TimelineEvent(atMs: healedAt - 2_000, kind: .healStarted))
            e.append(TimelineEvent(atMs: healedAt, kind: .healFinished))
        }
        return e.sorted { $0.atMs < $1.atMs }
    }

    /// What the fake load reports in runner tests: writes fail from 10 s to 13 s, as the fake cluster fails over.
    static let shortOutage = writes(until: 20_000) { (10_000..<13_000).contains($0) }

    /// A 20 s client-visible outage (10 s → 30 s), new primary at 25 s, healed at 40 s, load until 60 s, nothing lost.
    static func outage20s() -> Observations {
        let load = writes(until: 60_000) { (10_000..<30_000).contains($0) }
        return Observations(
            events: events(), load: load,
            conditions: [ConditionResult(step: 1, condition: .newPrimary, withinMs: 30_000, startedAtMs: 10_050, metAtMs: 25_000,
                                         lastSeen: "n1=down n2=primary/tl2 n3=async_replica/tl2"),
                         ConditionResult(step: 3, condition: .clusterHealthy(members: 3, sync: 1), withinMs: 60_000,
                                         startedAtMs: 40_000, metAtMs: 52_000, lastSeen: "n1=sync_standby/tl2 n2=primary/tl2 n3=async_replica/tl2")],
            readBack: ReadBack(checked: load.acked.count, missing: []),
            primaryAtInjection: "n1", loadStoppedAtMs: 60_000)
    }

    /// The cluster never comes back: write errors from 10 s to the end (60 s), conditions time out.
    static func neverRecovers() -> Observations {
        let load = writes(until: 60_000) { $0 >= 10_000 }
        return Observations(
            events: events(electedAt: nil, healedAt: nil), load: load,
            conditions: [ConditionResult(step: 1, condition: .newPrimary, withinMs: 30_000, startedAtMs: 10_050, metAtMs: nil,
                                         lastSeen: "n1=down n2=unknown n3=unknown")],
            readBack: ReadBack(checked: 0, missing: [], error: "no primary to read from"),
            primaryAtInjection: "n1", loadStoppedAtMs: 60_000)
    }
}
