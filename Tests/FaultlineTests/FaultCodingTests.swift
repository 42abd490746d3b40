import Foundation
import Testing
@testable import Faultline

/// The JSON forms of faults, actions and reversals are what report.json and fault-ledger.json hold: each
/// literal here is today's form, byte for byte (sorted keys, as every writer encodes), for every case.
@Suite struct FaultCodingTests {
    static let store = PacketFilter(peers: [.anyHost], services: [.objectStore])
    static let some = PacketFilter(peers: [.member("n2"), .clients], services: [.postgres, .patroni], percent: 5)
    static let someJSON = #"{"peers":["member:n2","clients"],"percent":5,"services":["postgres","patroni"]}"#

    static let specs: [(FaultSpec, String)] = [
        (.killNode(.primary), #"{"kind":"kill-node","target":"primary"}"#),
        (.killPostgres(.node("n2")), #"{"kind":"kill-postgres","target":"node:n2"}"#),
        (.switchover(to: .syncStandby), #"{"candidate":"sync-standby","kind":"switchover"}"#),
        (.switchover(to: nil), #"{"kind":"switchover"}"#),
        (.isolate(.primary), #"{"kind":"isolate","target":"primary"}"#),
        (.partition(.primary, from: .members([.syncStandby, .node("n3")]), services: [.etcd]),
         #"{"kind":"partition","peers":"members:sync-standby,node:n3","services":["etcd"],"target":"primary"}"#),
        (.partition(.primary, from: .clients, services: []), #"{"kind":"partition","peers":"clients","services":[],"target":"primary"}"#),
        (.partitionFromDCS(.asyncReplica), #"{"kind":"partition-dcs","target":"async-replica"}"#),
        (.packetLoss(.primary, percent: 5), #"{"kind":"packet-loss","percent":5,"target":"primary"}"#),
        (.bandwidth(.syncStandby, kbit: 256), #"{"kbit":256,"kind":"bandwidth","target":"sync-standby"}"#),
        (.latency(.primary, ms: 100), #"{"delayMs":100,"kind":"latency","target":"primary"}"#),
        (.pause(.primary, .patroni), #"{"kind":"pause","process":"patroni","target":"primary"}"#),
        (.fillDisk(.primary, percent: 100), #"{"kind":"fill-disk","percent":100,"target":"primary"}"#),
        (.pauseReplay(.anyReplica), #"{"kind":"pause-replay","target":"any-replica"}"#),
        (.dcsQuorumLoss(stop: 2), #"{"kind":"dcs-quorum-loss","stop":2}"#),
        (.longQuery(.primary), #"{"kind":"long-query","target":"primary"}"#),
        (.idleInTransaction(.primary), #"{"kind":"idle-in-transaction","target":"primary"}"#),
        (.exhaustConnections(.postgres(.primary)), #"{"kind":"exhaust-connections","target":"primary"}"#),
        (.exhaustConnections(.pooler), #"{"kind":"exhaust-connections","pooler":true}"#),
        (.breakArchiving(.primary), #"{"kind":"break-archiving","target":"primary"}"#),
        (.roguePromote(.asyncReplica), #"{"kind":"rogue-promote","target":"async-replica"}"#),
        (.pausePooler, #"{"kind":"pause-pooler"}"#),
        (.asyncReplication, #"{"kind":"async-replication"}"#),
    ]

    static let actions: [(FaultAction, String)] = [
        (.killNode(member: "n1"), #"{"kind":"kill-node","member":"n1"}"#),
        (.killPostgres(member: "n1"), #"{"kind":"kill-postgres","member":"n1"}"#),
        (.switchover(from: "n1", to: "n3"), #"{"from":"n1","kind":"switchover","to":"n3"}"#),
        (.switchover(from: "n1", to: nil), #"{"from":"n1","kind":"switchover"}"#),
        (.dropPackets(member: "n1", filter: some), #"{"filter":\#(someJSON),"kind":"drop-packets","member":"n1"}"#),
        (.shapeLink(member: "n2", shape: .rate(kbit: 256)), #"{"kbit":256,"kind":"shape-link","member":"n2"}"#),
        (.shapeLink(member: "n2", shape: .delay(ms: 100)), #"{"delayMs":100,"kind":"shape-link","member":"n2"}"#),
        (.stopProcess(member: "n1", process: .postgres), #"{"kind":"stop-process","member":"n1","process":"postgres"}"#),
        (.fillDisk(member: "n1", percent: 90), #"{"kind":"fill-disk","member":"n1","percent":90}"#),
        (.pauseReplay(member: "n3"), #"{"kind":"pause-replay","member":"n3"}"#),
        (.stopDCS(members: ["n2", "n3"]), #"{"kind":"stop-dcs","nodes":["n2","n3"]}"#),
        (.holdSessions(member: "pooler", hold: .poolerConnections), #"{"hold":"pooler-connections","kind":"hold-sessions","member":"pooler"}"#),
        (.breakArchiving(member: "n1", filter: store),
         #"{"filter":{"peers":["any-host"],"services":["object-store"]},"kind":"break-archiving","member":"n1"}"#),
        (.roguePromote(member: "n3"), #"{"kind":"rogue-promote","member":"n3"}"#),
        (.pausePooler, #"{"kind":"pause-pooler"}"#),
        (.asyncReplication, #"{"kind":"async-replication"}"#),
    ]

    static let reversals: [(Reversal, String)] = [
        (.startNode(member: "n1"), #"{"kind":"start-node","member":"n1"}"#),
        (.startPostgres(member: "n1"), #"{"kind":"start-postgres","member":"n1"}"#),
        (.nothingToUndo, #"{"kind":"nothing-to-undo"}"#),
        (.restorePackets(member: "n1", filter: some), #"{"filter":\#(someJSON),"kind":"restore-packets","member":"n1"}"#),
        (.unshapeLink(member: "n2", shape: .rate(kbit: 256)), #"{"kbit":256,"kind":"unshape-link","member":"n2"}"#),
        (.unshapeLink(member: "n2", shape: .delay(ms: 100)), #"{"delayMs":100,"kind":"unshape-link","member":"n2"}"#),
        (.continueProcess(member: "n1", process: .etcd), #"{"kind":"continue-process","member":"n1","process":"etcd"}"#),
        (.removeBallast(member: "n1"), #"{"kind":"remove-ballast","member":"n1"}"#),
        (.resumeReplay(member: "n3"), #"{"kind":"resume-replay","member":"n3"}"#),
        (.startDCS(members: ["n2", "n3"]), #"{"kind":"start-dcs","nodes":["n2","n3"]}"#),
        (.endSessions(member: "n1", hold: .longQuery), #"{"hold":"long-query","kind":"end-sessions","member":"n1"}"#),
        (.rejoinRogue(member: "n3"), #"{"kind":"rejoin-rogue","member":"n3"}"#),
        (.resumePooler, #"{"kind":"resume-pooler"}"#),
        (.syncReplication, #"{"kind":"sync-replication"}"#),
    ]

    func roundTrip<T: Codable & Equatable>(_ cases: [(T, String)]) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        for (value, json) in cases {
            #expect(String(decoding: try enc.encode(value), as: UTF8.self) == json)
            #expect(try JSONDecoder().decode(T.self, from: Data(json.utf8)) == value, "\(json)")
        }
    }

    @Test func specsKeepTheirJSONForm() throws { try roundTrip(Self.specs) }
    @Test func actionsKeepTheirJSONForm() throws { try roundTrip(Self.actions) }
    @Test func reversalsKeepTheirJSONForm() throws { try roundTrip(Self.reversals) }

    @Test func everyFaultKindHasAJSONCase() {
        let kinds = Set(Self.specs.map(\.0.kind))
        #expect(kinds == Set(FaultKind.allCases))
        for (spec, json) in Self.specs { #expect(json.contains(#""kind":"\#(spec.kind.rawValue)""#)) }
    }

    @Test func missingFieldsAndUnknownKindsAreDecodingErrors() {
        for json in [#"{"kind":"kill-node"}"#, #"{"kind":"packet-loss","target":"primary"}"#, #"{"kind":"no-such-fault","target":"primary"}"#,
                     #"{"kind":"exhaust-connections"}"#, #"{"target":"primary"}"#] {
            #expect(throws: DecodingError.self, "\(json)") { try JSONDecoder().decode(FaultSpec.self, from: Data(json.utf8)) }
        }
        for json in [#"{"kind":"switchover","to":"n2"}"#, #"{"kind":"shape-link","member":"n2"}"#, #"{"kind":"start-dcs","member":"n2"}"#] {
            #expect(throws: DecodingError.self, "\(json)") { try JSONDecoder().decode(FaultAction.self, from: Data(json.utf8)) }
        }
        for json in [#"{"kind":"start-node"}"#, #"{"kind":"unshape-link","member":"n2"}"#, #"{"kind":"kill-node","member":"n2"}"#] {
            #expect(throws: DecodingError.self, "\(json)") { try JSONDecoder().decode(Reversal.self, from: Data(json.utf8)) }
        }
    }
}
