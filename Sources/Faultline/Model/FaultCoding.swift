// Flat JSON for the fault kinds added after the first three (kill-node, kill-postgres, switchover keep
// their form in Coding.swift): {"kind": "isolate", "target": "primary"}, {"kind": "drop-packets",
// "member": "n1", "filter": {...}}, ... Coding.swift hands every kind it does not know to these.

struct FaultFields: Codable {
    var kind: String
    var target: RoleSelector?
    var member: String?
    var nodes: [String]?
    var peers: PeerGroup?
    var services: [NetService]?
    var percent: Int?
    var kbit: Int?
    var delayMs: Int?
    var process: ProcessKind?
    var stop: Int?
    var pooler: Bool?
    var hold: SessionHold?
    var filter: PacketFilter?

    init(_ kind: String) { self.kind = kind }

    func bad(_ decoder: any Decoder) -> DecodingError {
        .dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unexpected kind or fields for '\(kind)'"))
    }

    var shape: LinkShape? {
        if let k = kbit { return .rate(kbit: k) }
        if let d = delayMs { return .delay(ms: d) }
        return nil
    }

    mutating func set(_ shape: LinkShape) {
        switch shape {
        case .rate(let k): kbit = k
        case .delay(let d): delayMs = d
        }
    }
}

extension FaultSpec {
    static func decodeExtended(_ decoder: any Decoder) throws -> FaultSpec {
        let f = try FaultFields(from: decoder)
        switch (f.kind, f.target) {
        case ("isolate", .some(let t)): return .isolate(t)
        case ("partition", .some(let t)):
            guard let p = f.peers else { throw f.bad(decoder) }
            return .partition(t, from: p, services: f.services ?? [])
        case ("partition-dcs", .some(let t)): return .partitionFromDCS(t)
        case ("packet-loss", .some(let t)):
            guard let p = f.percent else { throw f.bad(decoder) }
            return .packetLoss(t, percent: p)
        case ("bandwidth", .some(let t)):
            guard let k = f.kbit else { throw f.bad(decoder) }
            return .bandwidth(t, kbit: k)
        case ("latency", .some(let t)):
            guard let d = f.delayMs else { throw f.bad(decoder) }
            return .latency(t, ms: d)
        case ("pause", .some(let t)):
            guard let p = f.process else { throw f.bad(decoder) }
            return .pause(t, p)
        case ("fill-disk", .some(let t)):
            guard let p = f.percent else { throw f.bad(decoder) }
            return .fillDisk(t, percent: p)
        case ("pause-replay", .some(let t)): return .pauseReplay(t)
        case ("dcs-quorum-loss", _):
            guard let n = f.stop else { throw f.bad(decoder) }
            return .dcsQuorumLoss(stop: n)
        case ("long-query", .some(let t)): return .longQuery(t)
        case ("idle-in-transaction", .some(let t)): return .idleInTransaction(t)
        case ("break-archiving", .some(let t)): return .breakArchiving(t)
        case ("exhaust-connections", let t):
            if f.pooler == true { return .exhaustConnections(.pooler) }
            guard let t else { throw f.bad(decoder) }
            return .exhaustConnections(.postgres(t))
        case ("rogue-promote", .some(let t)): return .roguePromote(t)
        default: throw f.bad(decoder)
        }
    }

    func encodeExtended(to encoder: any Encoder) throws {
        var f = FaultFields(kind)
        switch self {
        case .killNode, .killPostgres, .switchover:
            preconditionFailure("encoded in Coding.swift")
        case .isolate(let t), .partitionFromDCS(let t), .pauseReplay(let t), .longQuery(let t), .idleInTransaction(let t),
             .breakArchiving(let t), .roguePromote(let t):
            f.target = t
        case .partition(let t, let p, let s): f.target = t; f.peers = p; f.services = s
        case .packetLoss(let t, let p), .fillDisk(let t, let p): f.target = t; f.percent = p
        case .bandwidth(let t, let k): f.target = t; f.kbit = k
        case .latency(let t, let d): f.target = t; f.delayMs = d
        case .pause(let t, let p): f.target = t; f.process = p
        case .dcsQuorumLoss(let n): f.stop = n
        case .exhaustConnections(.postgres(let t)): f.target = t
        case .exhaustConnections(.pooler): f.pooler = true
        }
        try f.encode(to: encoder)
    }
}

extension FaultAction {
    static func decodeExtended(_ decoder: any Decoder) throws -> FaultAction {
        let f = try FaultFields(from: decoder)
        switch (f.kind, f.member) {
        case ("drop-packets", .some(let m)):
            guard let filter = f.filter else { throw f.bad(decoder) }
            return .dropPackets(member: m, filter: filter)
        case ("shape-link", .some(let m)):
            guard let s = f.shape else { throw f.bad(decoder) }
            return .shapeLink(member: m, shape: s)
        case ("stop-process", .some(let m)):
            guard let p = f.process else { throw f.bad(decoder) }
            return .stopProcess(member: m, process: p)
        case ("fill-disk", .some(let m)):
            guard let p = f.percent else { throw f.bad(decoder) }
            return .fillDisk(member: m, percent: p)
        case ("pause-replay", .some(let m)): return .pauseReplay(member: m)
        case ("stop-dcs", _):
            guard let ms = f.nodes else { throw f.bad(decoder) }
            return .stopDCS(members: ms)
        case ("hold-sessions", .some(let m)):
            guard let h = f.hold else { throw f.bad(decoder) }
            return .holdSessions(member: m, hold: h)
        case ("break-archiving", .some(let m)):
            guard let filter = f.filter else { throw f.bad(decoder) }
            return .breakArchiving(member: m, filter: filter)
        case ("rogue-promote", .some(let m)): return .roguePromote(member: m)
        default: throw f.bad(decoder)
        }
    }

    func encodeExtended(to encoder: any Encoder) throws {
        var f: FaultFields
        switch self {
        case .killNode, .killPostgres, .switchover:
            preconditionFailure("encoded in Coding.swift")
        case .dropPackets(let m, let filter): f = FaultFields("drop-packets"); f.member = m; f.filter = filter
        case .shapeLink(let m, let s): f = FaultFields("shape-link"); f.member = m; f.set(s)
        case .stopProcess(let m, let p): f = FaultFields("stop-process"); f.member = m; f.process = p
        case .fillDisk(let m, let p): f = FaultFields("fill-disk"); f.member = m; f.percent = p
        case .pauseReplay(let m): f = FaultFields("pause-replay"); f.member = m
        case .stopDCS(let ms): f = FaultFields("stop-dcs"); f.nodes = ms
        case .holdSessions(let m, let h): f = FaultFields("hold-sessions"); f.member = m; f.hold = h
        case .breakArchiving(let m, let filter): f = FaultFields("break-archiving"); f.member = m; f.filter = filter
        case .roguePromote(let m): f = FaultFields("rogue-promote"); f.member = m
        }
        try f.encode(to: encoder)
    }
}

extension Reversal {
    static func decodeExtended(_ decoder: any Decoder) throws -> Reversal {
        let f = try FaultFields(from: decoder)
        switch (f.kind, f.member) {
        case ("restore-packets", .some(let m)):
            guard let filter = f.filter else { throw f.bad(decoder) }
            return .restorePackets(member: m, filter: filter)
        case ("unshape-link", .some(let m)):
            guard let s = f.shape else { throw f.bad(decoder) }
            return .unshapeLink(member: m, shape: s)
        case ("continue-process", .some(let m)):
            guard let p = f.process else { throw f.bad(decoder) }
            return .continueProcess(member: m, process: p)
        case ("remove-ballast", .some(let m)): return .removeBallast(member: m)
        case ("resume-replay", .some(let m)): return .resumeReplay(member: m)
        case ("start-dcs", _):
            guard let ms = f.nodes else { throw f.bad(decoder) }
            return .startDCS(members: ms)
        case ("end-sessions", .some(let m)):
            guard let h = f.hold else { throw f.bad(decoder) }
            return .endSessions(member: m, hold: h)
        case ("rejoin-rogue", .some(let m)): return .rejoinRogue(member: m)
        default: throw f.bad(decoder)
        }
    }

    func encodeExtended(to encoder: any Encoder) throws {
        var f: FaultFields
        switch self {
        case .startNode, .startPostgres, .nothingToUndo:
            preconditionFailure("encoded in Coding.swift")
        case .restorePackets(let m, let filter): f = FaultFields("restore-packets"); f.member = m; f.filter = filter
        case .unshapeLink(let m, let s): f = FaultFields("unshape-link"); f.member = m; f.set(s)
        case .continueProcess(let m, let p): f = FaultFields("continue-process"); f.member = m; f.process = p
        case .removeBallast(let m): f = FaultFields("remove-ballast"); f.member = m
        case .resumeReplay(let m): f = FaultFields("resume-replay"); f.member = m
        case .startDCS(let ms): f = FaultFields("start-dcs"); f.nodes = ms
        case .endSessions(let m, let h): f = FaultFields("end-sessions"); f.member = m; f.hold = h
        case .rejoinRogue(let m): f = FaultFields("rejoin-rogue"); f.member = m
        }
        try f.encode(to: encoder)
    }
}
