import Testing
@testable import Faultline

/// The one health rule (`Topology.health(against:)`), which the runner and every environment use.
@Suite struct TopologyHealthTests {
    let shape = ClusterShape(members: 3, sync: 1)
    let healthy = Topology(members: [Member(name: "n1", role: .primary, timeline: 4),
                                     Member(name: "n2", role: .syncStandby, timeline: 4),
                                     Member(name: "n3", role: .asyncReplica, timeline: 4)])

    @Test func healthyClusterHasNoProblem() {
        #expect(healthy.health(against: shape).isEmpty)
        #expect(healthy.isHealthy(shape))
    }

    @Test func aReplicaOnAnotherTimelineIsUnhealthy() {
        var t = healthy
        t.members[2].timeline = 3
        #expect(t.health(against: shape) == [.timeline(member: "n3", timeline: 3, primaryTimeline: 4)])
        #expect(t.problems(against: shape) == ["n3 on timeline 3, primary on 4"])
        // An unknown timeline is no mismatch.
        t.members[2].timeline = nil
        #expect(t.isHealthy(shape))
    }

    @Test func tooFewSyncStandbysIsUnhealthyAndMoreIsFine() {
        var t = healthy
        t.members[1].role = .asyncReplica
        #expect(t.health(against: shape) == [.tooFewSync(0, want: 1)])
        #expect(t.problems(against: shape) == ["0 sync standbys, want 1"])
        // At least `sync`: a second synchronous standby (quorum commit) is healthy.
        t.members[1].role = .syncStandby
        t.members[2].role = .syncStandby
        #expect(t.isHealthy(shape))
    }

    @Test func aDownOrUnknownMemberIsUnhealthy() {
        for role in [MemberRole.down, .unknown] {
            var t = healthy
            t.members[2].role = role
            #expect(t.health(against: shape) == [.notRunning(["n3"])])
        }
        var t = healthy
        t.members.removeLast()
        #expect(t.health(against: shape) == [.memberCount(2, want: 3)])
    }

    @Test func twoPrimariesAreUnhealthyAndTimelinesAreNotJudgedWithoutOne() {
        var t = healthy
        t.members[2] = Member(name: "n3", role: .primary, timeline: 5)
        #expect(t.health(against: shape) == [.primaries(["n1", "n3"])])
    }
}
