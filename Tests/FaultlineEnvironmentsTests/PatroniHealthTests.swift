import Faultline
import Testing
@testable import FaultlineEnvironments

/// `ClusterStatus.problems` (what `env status`, `up` and `heal` wait on) and the runner's
/// `Topology.problems` judge a Patroni answer by the same rule.
@Suite struct PatroniHealthTests {
    let names = ["n1", "n2", "n3"]
    let shape = ClusterShape(members: 3, sync: 1)

    static let answers: [String] = [
        ClusterStatusTests.healthy,
        // n3 streams from an old timeline.
        #"{"members": [{"name": "n1", "role": "leader", "state": "running", "timeline": 2}, {"name": "n2", "role": "sync_standby", "state": "streaming", "timeline": 2, "lag": 0}, {"name": "n3", "role": "replica", "state": "streaming", "timeline": 1, "lag": 0}]}"#,
        // No synchronous standby.
        #"{"members": [{"name": "n1", "role": "leader", "state": "running", "timeline": 2}, {"name": "n2", "role": "replica", "state": "streaming", "timeline": 2, "lag": 0}, {"name": "n3", "role": "replica", "state": "streaming", "timeline": 2, "lag": 0}]}"#,
        // Two synchronous standbys: at least one is enough.
        #"{"members": [{"name": "n1", "role": "leader", "state": "running", "timeline": 2}, {"name": "n2", "role": "sync_standby", "state": "streaming", "timeline": 2, "lag": 0}, {"name": "n3", "role": "sync_standby", "state": "streaming", "timeline": 2, "lag": 0}]}"#,
        // n2 stopped; the leader still starting.
        #"{"members": [{"name": "n1", "role": "leader", "state": "starting", "timeline": 2}, {"name": "n2", "role": "sync_standby", "state": "stopped", "timeline": 2}, {"name": "n3", "role": "sync_standby", "state": "streaming", "timeline": 2, "lag": 0}]}"#,
        // n3 absent.
        #"{"members": [{"name": "n1", "role": "leader", "state": "running", "timeline": 2}, {"name": "n2", "role": "sync_standby", "state": "streaming", "timeline": 2, "lag": 0}]}"#,
    ]

    @Test(arguments: answers)
    func environmentAndRunnerAgree(_ json: String) throws {
        let m = try ClusterStatus.members(fromPatroniCluster: json, expected: names)
        let env = ClusterStatus.problems(members: m, expected: 3, sync: 1)
        let runner = ClusterStatus.topology(from: m).problems(against: shape)
        #expect(env.isEmpty == runner.isEmpty, "env: \(env); runner: \(runner)")
    }

    @Test func timelineMismatchIsNamedInPatroniTerms() throws {
        let m = try ClusterStatus.members(fromPatroniCluster: Self.answers[1], expected: names)
        #expect(ClusterStatus.problems(members: m, expected: 3, sync: 1) == ["n3 on timeline 1 but leader on 2"])
    }

    @Test func moreSyncStandbysThanAskedIsHealthy() throws {
        let m = try ClusterStatus.members(fromPatroniCluster: Self.answers[3], expected: names)
        #expect(ClusterStatus.problems(members: m, expected: 3, sync: 1).isEmpty)
        let none = try ClusterStatus.members(fromPatroniCluster: Self.answers[2], expected: names)
        #expect(ClusterStatus.problems(members: none, expected: 3, sync: 1) == ["0 of 1 synchronous standbys"])
    }

    @Test func aLeaderNotRunningAndADownReplicaAreNamed() throws {
        let m = try ClusterStatus.members(fromPatroniCluster: Self.answers[4], expected: names)
        #expect(ClusterStatus.problems(members: m, expected: 3, sync: 1) == ["leader n1 is starting", "1 of 2 replicas streaming (n2 stopped)"])
        let t = ClusterStatus.topology(from: m)
        #expect(t.health(against: shape) == [.notRunning(["n1", "n2"]), .primaries([])])
    }

    /// Patroni 3.0.2 reports streaming replicas as "running": the mapping, not the rule, knows it.
    @Test func legacyRunningReplicasMapToStandbys() throws {
        let legacy = #"{"members": [{"name": "n1", "role": "leader", "state": "running", "timeline": 1}, {"name": "n2", "role": "sync_standby", "state": "running", "timeline": 1, "lag": 0}, {"name": "n3", "role": "replica", "state": "running", "timeline": 1, "lag": 0}]}"#
        let t = ClusterStatus.topology(from: try ClusterStatus.members(fromPatroniCluster: legacy, expected: names))
        #expect(t.members.map(\.role) == [.primary, .syncStandby, .asyncReplica])
    }
}
