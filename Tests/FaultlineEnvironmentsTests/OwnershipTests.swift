import Faultline
import Foundation
import Testing
@testable import FaultlineEnvironments

@Suite struct OwnershipTests {
    var config: LocalConfig {
        var c = LocalConfig()
        c.stateDir = "/var/lib/faultline/test"
        c.subnet = "10.78.0.0/24"
        return c
    }

    @Test func aStampReadsBackAndOwnsItsEnvironment() throws {
        let s = OwnershipStamp.now(config)
        #expect(s.tool == "faultline" && s.stateDir == config.stateDir && s.subnet == config.subnet)
        #expect(!s.createdBy.isEmpty && s.createdAt.hasSuffix("Z"))
        let data = try JSONEncoder().encode(s)
        #expect(try JSONDecoder().decode(OwnershipStamp.self, from: data) == s)
        #expect(OwnershipStamp.problem(data, for: config) == nil)
        #expect(OwnershipStamp.path(config) == "/var/lib/faultline/test/owner.json")
    }

    @Test func whatDoesNotOwnItSaysWhy() throws {
        #expect(OwnershipStamp.problem(nil, for: config)?.contains("no ownership stamp /var/lib/faultline/test/owner.json") == true)
        #expect(OwnershipStamp.problem(Data("{}".utf8), for: config)?.contains("is not a Faultline ownership stamp") == true)
        var other = OwnershipStamp.now(config)
        other.stateDir = "/var/lib/faultline/local"
        #expect(OwnershipStamp.problem(try JSONEncoder().encode(other), for: config)?.contains("another state dir (/var/lib/faultline/local)") == true)
        var subnet = OwnershipStamp.now(config)
        subnet.subnet = "10.77.0.0/24"
        #expect(OwnershipStamp.problem(try JSONEncoder().encode(subnet), for: config)?.contains("another subnet") == true)
        var tool = OwnershipStamp.now(config)
        tool.tool = "chaos-mesh"
        #expect(OwnershipStamp.problem(try JSONEncoder().encode(tool), for: config)?.contains("written by chaos-mesh") == true)
    }

    @Test func theBlastRadiusIsTheNodesAndThePooler() {
        var c = config
        c.nodeCount = 3
        let r = c.blastRadius(ownershipProblem: nil)
        #expect(r.members == ["n1", "n2", "n3", "pooler"])
        #expect(r.subnet == "10.78.0.0/24")
        #expect(r.owned)
        let t = Topology(members: [Member(name: "n1", role: .primary, host: "10.78.0.11"), Member(name: "n2", role: .syncStandby, host: "10.78.0.12")])
        #expect(r.problems(.killNode(member: "n1"), in: t, allowed: []).isEmpty)
        #expect(r.problems(.holdSessions(member: "pooler", hold: .poolerConnections), in: t, allowed: []).isEmpty)
        #expect(r.problems(.stopDCS(members: ["n1", "n2"]), in: t, allowed: []).isEmpty)
        #expect(r.problems(.killNode(member: "n4"), in: t, allowed: []).count == 1)
        let foreign = c.blastRadius(ownershipProblem: "no ownership stamp")
        #expect(!foreign.owned && foreign.ownership == "no ownership stamp")
        #expect(foreign.problems(.killNode(member: "n1"), in: t, allowed: []).count == 1)
    }

    @Test func everyFaultTheLocalEnvironmentResolvesNamesAMemberOfItsRadius() throws {
        let t = Topology(members: [Member(name: "n1", role: .primary), Member(name: "n2", role: .syncStandby),
                                   Member(name: "n3", role: .asyncReplica)])
        let members = LocalConfig().faultMembers
        for spec in [FaultSpec.dcsQuorumLoss(stop: 2), .exhaustConnections(.pooler), .exhaustConnections(.postgres(.primary)), .killNode(.primary)] {
            let r = try spec.resolve(in: t)
            #expect(r.action.members.allSatisfy(members.contains), "\(r.action)")
        }
    }

    @Test func freeShareOfAVolume() {
        #expect(LocalEnvironment.VolumeUsage(totalBytes: 1_000, usedBytes: 950).freeShare == 0.05)
        #expect(LocalEnvironment.VolumeUsage(totalBytes: 1_000, usedBytes: 0).freeShare == 1)
        #expect(LocalEnvironment.VolumeUsage(totalBytes: 1_000, usedBytes: 1_200).freeShare == 0)
        #expect(LocalEnvironment.VolumeUsage(totalBytes: 0, usedBytes: 0).freeShare == nil)
    }
}
