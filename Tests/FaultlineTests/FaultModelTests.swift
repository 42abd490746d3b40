import Faultline
import Foundation
import Testing

/// The fault catalogue's model: resolution at injection, exact reversals, JSON round trips (old forms kept).
@Suite struct FaultModelTests {
    let topo = Topology(members: [
        Member(name: "n1", role: .primary, timeline: 1),
        Member(name: "n2", role: .syncStandby, timeline: 1),
        Member(name: "n3", role: .asyncReplica, timeline: 1),
    ])

    static let specs: [FaultSpec] = [
        .killNode(.primary), .killPostgres(.syncStandby), .switchover(to: nil), .switchover(to: .asyncReplica),
        .isolate(.primary), .partitionFromReplicas(.primary), .partitionFromClients(.primary),
        .partition(.primary, from: .members([.syncStandby, .node("n3")]), services: [.etcd]),
        .partition(.node("n2"), from: .everyone, services: []),
        .partitionFromDCS(.primary), .packetLoss(.primary, percent: 30), .bandwidth(.syncStandby, kbit: 256),
        .latency(.primary, ms: 100), .pause(.primary, .postgres), .pause(.primary, .patroni), .fillDisk(.primary, percent: 100),
        .pauseReplay(.asyncReplica), .dcsQuorumLoss(stop: 2), .longQuery(.primary), .idleInTransaction(.primary),
        .exhaustConnections(.postgres(.primary)), .exhaustConnections(.pooler), .breakArchiving(.primary),
    ]

    @Test(arguments: specs) func specsRoundTripThroughJSON(_ spec: FaultSpec) throws {
        let data = try JSONEncoder().encode(spec)
        #expect(try JSONDecoder().decode(FaultSpec.self, from: data) == spec, "\(String(decoding: data, as: UTF8.self))")
        let resolved = try spec.resolve(in: topo)
        let entry = FaultLedgerEntry(id: "r/1", runId: "r", scenario: "s", action: resolved.action, reversal: resolved.reversal)
        #expect(try JSONDecoder().decode(FaultLedgerEntry.self, from: JSONEncoder().encode(entry)) == entry)
    }

    @Test func oldLedgerFormsStillDecode() throws {
        let old = #"{"id":"r/1","runId":"r","scenario":"kill-primary","action":{"kind":"kill-node","member":"n1"},"reversal":{"kind":"start-node","member":"n1"}}"#
        let e = try JSONDecoder().decode(FaultLedgerEntry.self, from: Data(old.utf8))
        #expect(e.action == .killNode(member: "n1") && e.reversal == .startNode(member: "n1"))
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(FaultSpec.self, from: Data(#"{"kind":"no-such"}"#.utf8)) }
    }

    @Test func selectorsResolveAtInjectionAndReversalsMirrorActions() throws {
        let iso = try FaultSpec.isolate(.primary).resolve(in: topo)
        #expect(iso.action == .dropPackets(member: "n1", filter: PacketFilter(peers: [.anyHost])))
        #expect(iso.reversal == .restorePackets(member: "n1", filter: PacketFilter(peers: [.anyHost])))

        let part = try FaultSpec.partitionFromReplicas(.primary).resolve(in: topo)
        #expect(part.action == .dropPackets(member: "n1", filter: PacketFilter(peers: [.member("n2"), .member("n3")], services: [.postgres, .patroni])))

        let dcs = try FaultSpec.partitionFromDCS(.syncStandby).resolve(in: topo)
        #expect(dcs.action == .dropPackets(member: "n2", filter: PacketFilter(peers: [.anyHost, .loopback], services: [.etcd])))

        // After a failover the same spec aims elsewhere.
        var moved = topo
        moved.members[0].role = .asyncReplica
        moved.members[1].role = .primary
        #expect(try FaultSpec.pause(.primary, .postgres).resolve(in: moved).action == .stopProcess(member: "n2", process: .postgres))

        // Quorum loss stops replicas first; the primary's own etcd member keeps running.
        #expect(try FaultSpec.dcsQuorumLoss(stop: 2).resolve(in: topo).action == .stopDCS(members: ["n2", "n3"]))
        #expect(try FaultSpec.fillDisk(.primary, percent: 250).resolve(in: topo).action == .fillDisk(member: "n1", percent: 100))
        #expect(throws: RoleSelector.ResolutionError.self) { try FaultSpec.pauseReplay(.primary).resolve(in: topo) }

        // break-archiving: the object store's port dropped on the primary; the reversal deletes exactly those rules.
        let store = PacketFilter(peers: [.anyHost], services: [.objectStore])
        let arch = try FaultSpec.breakArchiving(.primary).resolve(in: moved)
        #expect(arch.action == .breakArchiving(member: "n2", filter: store))
        #expect(arch.reversal == .restorePackets(member: "n2", filter: store))
        #expect(FaultSpec.breakArchiving(.primary).kind.rawValue == "break-archiving")
    }

    @Test func breakArchivingLedgerEntryHasAStableJSONForm() throws {
        let json = #"{"id":"r/1","runId":"r","scenario":"wal-archive-failure","action":{"kind":"break-archiving","member":"n1","filter":{"peers":["any-host"],"services":["object-store"]}},"reversal":{"kind":"restore-packets","member":"n1","filter":{"peers":["any-host"],"services":["object-store"]}}}"#
        let e = try JSONDecoder().decode(FaultLedgerEntry.self, from: Data(json.utf8))
        let f = PacketFilter(peers: [.anyHost], services: [.objectStore])
        #expect(e.action == .breakArchiving(member: "n1", filter: f) && e.reversal == .restorePackets(member: "n1", filter: f))
        #expect(try JSONDecoder().decode(FaultSpec.self, from: Data(#"{"kind":"break-archiving","target":"primary"}"#.utf8)) == .breakArchiving(.primary))
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(FaultSpec.self, from: Data(#"{"kind":"break-archiving"}"#.utf8)) }
    }

    @Test func unsupportedFaultSkipsEveryVerdictAndPassesNone() {
        let s = Scenario("netem") {
            Load(.ledgerWrites(rate: 10))
            Inject(.latency(.primary, ms: 100))
            Hold(for: .seconds(5))
            Heal()
        }
        var obs = Observations(events: [TimelineEvent(atMs: 1_000, kind: .faultInjected)], readBack: ReadBack(checked: 0, missing: []))
        obs.unsupported = ["shape n1's link: delay 100 ms: unsupported by this kernel"]
        let v = Assertions.evaluate(s, obs)
        #expect(v.first?.id == "fault")
        #expect(v.allSatisfy { $0.result.status == .skipped }, "\(v.map { "\($0.id)=\($0.result.status)" })")
        #expect(v.first?.result.message?.contains("unsupported by this kernel") == true)
    }

    @Test func splitBrainFailsWhenTwoMembersAcceptInOneRound() {
        let ok = ProbeReport(rounds: [WriteProbeRound(atMs: 0, accepted: ["n1"], refused: ["n2": "read_only"]),
                                      WriteProbeRound(atMs: 500, accepted: [], refused: ["n1": "timeout", "n2": "read_only"]),
                                      WriteProbeRound(atMs: 1_000, accepted: ["n2"], refused: ["n1": "timeout"])])
        #expect(FaultChecks.splitBrain(ok).result.status == .passed)
        var bad = ok
        bad.rounds.append(WriteProbeRound(atMs: 1_500, accepted: ["n1", "n2"], refused: [:]))
        let v = FaultChecks.splitBrain(bad)
        #expect(v.result.status == .failed)
        #expect(v.result.measured == .count(2))
        #expect(v.items == ["+1.5 s: n1, n2"])
    }

    @Test func lagMustRecoverWithinSettleAfterHeal() {
        let s = Scenario(name: "lag", targets: Targets(settle: .seconds(10)), workloads: [.ledgerWrites(rate: 1)],
                         steps: [.inject(.pauseReplay(.asyncReplica)), .hold(.seconds(5)), .heal])
        let big = 64 << 20
        let obs = Observations(events: [TimelineEvent(atMs: 0, kind: .faultInjected), TimelineEvent(atMs: 5_000, kind: .healFinished)])
        func report(_ samples: [(Int, Int)]) -> Observations {
            var o = obs
            o.probes = ProbeReport(lag: samples.map { LagSample(atMs: $0.0, member: "n3", bytes: $0.1, seconds: nil) })
            return o
        }
        let quick = report([(1_000, big), (5_500, big), (7_000, 0), (9_000, 0)])
        #expect(FaultChecks.lagRecovery(s, quick, quick.probes!).result == VerdictResult.passed(measured: .ms(2_000), target: .ms(10_000)))
        let stuck = report([(1_000, big), (9_000, big), (20_000, big)])
        #expect(FaultChecks.lagRecovery(s, stuck, stuck.probes!).result.status == .failed)
    }
}
