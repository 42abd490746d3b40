// Flat JSON for faults, actions and reversals: {"kind": "isolate", "target": "primary"},
// {"kind": "switchover", "from": "n1", "to": "n3"}, {"kind": "drop-packets", "member": "n1", "filter": {...}}, ...
// One form per case; an unknown kind or a missing field is a DecodingError, never a trap.

/// Every field the model's flat JSON may carry (conditions, workloads, steps, faults, actions, reversals,
/// operations: Coding.swift, this file, Operations.swift); absent fields are left out of the JSON.
struct FlatFields: Codable {
    var kind: String
    // conditions, workloads, steps
    var members: Int?
    var sync: Int?
    var rate: Int?
    var connect: ConnectionPolicy?
    var condition: Condition?
    var fault: FaultSpec?
    var operation: OperationSpec?
    var withinMs: Int?
    var alert: String?
    // faults, actions, reversals
    var target: RoleSelector?
    var candidate: RoleSelector?
    var member: String?
    var from: String?
    var to: String?
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
    // operations
    var name: String?
    var type: BackupType?
    var repo: String?
    var revision: String?
    var version: String?
    var share: Double?

    init(_ kind: String) { self.kind = kind }

    func bad(_ decoder: any Decoder) -> DecodingError {
        .dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unexpected kind or fields for '\(kind)'"))
    }

    /// `value`, or the DecodingError naming this kind when the field is absent.
    func need<T>(_ value: T?, _ decoder: any Decoder) throws -> T {
        guard let value else { throw bad(decoder) }
        return value
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
    public init(from decoder: any Decoder) throws {
        let f = try FlatFields(from: decoder)
        guard let kind = FaultKind(rawValue: f.kind) else { throw f.bad(decoder) }
        func target() throws -> RoleSelector { try f.need(f.target, decoder) }
        switch kind {
        case .killNode: self = .killNode(try target())
        case .killPostgres: self = .killPostgres(try target())
        case .switchover: self = .switchover(to: f.candidate)
        case .isolate: self = .isolate(try target())
        case .partition: self = .partition(try target(), from: try f.need(f.peers, decoder), services: f.services ?? [])
        case .partitionFromDCS: self = .partitionFromDCS(try target())
        case .packetLoss: self = .packetLoss(try target(), percent: try f.need(f.percent, decoder))
        case .bandwidth: self = .bandwidth(try target(), kbit: try f.need(f.kbit, decoder))
        case .latency: self = .latency(try target(), ms: try f.need(f.delayMs, decoder))
        case .pause: self = .pause(try target(), try f.need(f.process, decoder))
        case .fillDisk: self = .fillDisk(try target(), percent: try f.need(f.percent, decoder))
        case .pauseReplay: self = .pauseReplay(try target())
        case .dcsQuorumLoss: self = .dcsQuorumLoss(stop: try f.need(f.stop, decoder))
        case .longQuery: self = .longQuery(try target())
        case .idleInTransaction: self = .idleInTransaction(try target())
        case .exhaustConnections: self = .exhaustConnections(f.pooler == true ? .pooler : .postgres(try target()))
        case .breakArchiving: self = .breakArchiving(try target())
        case .roguePromote: self = .roguePromote(try target())
        case .pausePooler: self = .pausePooler
        case .asyncReplication: self = .asyncReplication
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var f = FlatFields(kind.rawValue)
        switch self {
        case .killNode(let t), .killPostgres(let t), .isolate(let t), .partitionFromDCS(let t), .pauseReplay(let t),
             .longQuery(let t), .idleInTransaction(let t), .breakArchiving(let t), .roguePromote(let t):
            f.target = t
        case .switchover(let c): f.candidate = c
        case .partition(let t, let p, let s): f.target = t; f.peers = p; f.services = s
        case .packetLoss(let t, let p), .fillDisk(let t, let p): f.target = t; f.percent = p
        case .bandwidth(let t, let k): f.target = t; f.kbit = k
        case .latency(let t, let d): f.target = t; f.delayMs = d
        case .pause(let t, let p): f.target = t; f.process = p
        case .dcsQuorumLoss(let n): f.stop = n
        case .exhaustConnections(.postgres(let t)): f.target = t
        case .exhaustConnections(.pooler): f.pooler = true
        case .pausePooler, .asyncReplication: break
        }
        try f.encode(to: encoder)
    }
}

extension FaultAction {
    /// The action's name in JSON.
    enum Kind: String {
        case killNode = "kill-node", killPostgres = "kill-postgres", switchover
        case dropPackets = "drop-packets", shapeLink = "shape-link", stopProcess = "stop-process", fillDisk = "fill-disk"
        case pauseReplay = "pause-replay", stopDCS = "stop-dcs", holdSessions = "hold-sessions"
        case breakArchiving = "break-archiving", roguePromote = "rogue-promote", pausePooler = "pause-pooler"
        case asyncReplication = "async-replication"
    }

    public init(from decoder: any Decoder) throws {
        let f = try FlatFields(from: decoder)
        guard let kind = Kind(rawValue: f.kind) else { throw f.bad(decoder) }
        func member() throws -> String { try f.need(f.member, decoder) }
        switch kind {
        case .killNode: self = .killNode(member: try member())
        case .killPostgres: self = .killPostgres(member: try member())
        case .switchover: self = .switchover(from: try f.need(f.from, decoder), to: f.to)
        case .dropPackets: self = .dropPackets(member: try member(), filter: try f.need(f.filter, decoder))
        case .shapeLink: self = .shapeLink(member: try member(), shape: try f.need(f.shape, decoder))
        case .stopProcess: self = .stopProcess(member: try member(), process: try f.need(f.process, decoder))
        case .fillDisk: self = .fillDisk(member: try member(), percent: try f.need(f.percent, decoder))
        case .pauseReplay: self = .pauseReplay(member: try member())
        case .stopDCS: self = .stopDCS(members: try f.need(f.nodes, decoder))
        case .holdSessions: self = .holdSessions(member: try member(), hold: try f.need(f.hold, decoder))
        case .breakArchiving: self = .breakArchiving(member: try member(), filter: try f.need(f.filter, decoder))
        case .roguePromote: self = .roguePromote(member: try member())
        case .pausePooler: self = .pausePooler
        case .asyncReplication: self = .asyncReplication
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var f: FlatFields
        switch self {
        case .killNode(let m): f = FlatFields(Kind.killNode.rawValue); f.member = m
        case .killPostgres(let m): f = FlatFields(Kind.killPostgres.rawValue); f.member = m
        case .switchover(let from, let to): f = FlatFields(Kind.switchover.rawValue); f.from = from; f.to = to
        case .dropPackets(let m, let filter): f = FlatFields(Kind.dropPackets.rawValue); f.member = m; f.filter = filter
        case .shapeLink(let m, let s): f = FlatFields(Kind.shapeLink.rawValue); f.member = m; f.set(s)
        case .stopProcess(let m, let p): f = FlatFields(Kind.stopProcess.rawValue); f.member = m; f.process = p
        case .fillDisk(let m, let p): f = FlatFields(Kind.fillDisk.rawValue); f.member = m; f.percent = p
        case .pauseReplay(let m): f = FlatFields(Kind.pauseReplay.rawValue); f.member = m
        case .stopDCS(let ms): f = FlatFields(Kind.stopDCS.rawValue); f.nodes = ms
        case .holdSessions(let m, let h): f = FlatFields(Kind.holdSessions.rawValue); f.member = m; f.hold = h
        case .breakArchiving(let m, let filter): f = FlatFields(Kind.breakArchiving.rawValue); f.member = m; f.filter = filter
        case .roguePromote(let m): f = FlatFields(Kind.roguePromote.rawValue); f.member = m
        case .pausePooler: f = FlatFields(Kind.pausePooler.rawValue)
        case .asyncReplication: f = FlatFields(Kind.asyncReplication.rawValue)
        }
        try f.encode(to: encoder)
    }
}

extension Reversal {
    /// The reversal's name in JSON.
    enum Kind: String {
        case startNode = "start-node", startPostgres = "start-postgres", nothingToUndo = "nothing-to-undo"
        case restorePackets = "restore-packets", unshapeLink = "unshape-link", continueProcess = "continue-process"
        case removeBallast = "remove-ballast", resumeReplay = "resume-replay", startDCS = "start-dcs"
        case endSessions = "end-sessions", rejoinRogue = "rejoin-rogue", resumePooler = "resume-pooler"
        case syncReplication = "sync-replication"
    }

    public init(from decoder: any Decoder) throws {
        let f = try FlatFields(from: decoder)
        guard let kind = Kind(rawValue: f.kind) else { throw f.bad(decoder) }
        func member() throws -> String { try f.need(f.member, decoder) }
        switch kind {
        case .startNode: self = .startNode(member: try member())
        case .startPostgres: self = .startPostgres(member: try member())
        case .nothingToUndo: self = .nothingToUndo
        case .restorePackets: self = .restorePackets(member: try member(), filter: try f.need(f.filter, decoder))
        case .unshapeLink: self = .unshapeLink(member: try member(), shape: try f.need(f.shape, decoder))
        case .continueProcess: self = .continueProcess(member: try member(), process: try f.need(f.process, decoder))
        case .removeBallast: self = .removeBallast(member: try member())
        case .resumeReplay: self = .resumeReplay(member: try member())
        case .startDCS: self = .startDCS(members: try f.need(f.nodes, decoder))
        case .endSessions: self = .endSessions(member: try member(), hold: try f.need(f.hold, decoder))
        case .rejoinRogue: self = .rejoinRogue(member: try member())
        case .resumePooler: self = .resumePooler
        case .syncReplication: self = .syncReplication
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var f: FlatFields
        switch self {
        case .startNode(let m): f = FlatFields(Kind.startNode.rawValue); f.member = m
        case .startPostgres(let m): f = FlatFields(Kind.startPostgres.rawValue); f.member = m
        case .nothingToUndo: f = FlatFields(Kind.nothingToUndo.rawValue)
        case .restorePackets(let m, let filter): f = FlatFields(Kind.restorePackets.rawValue); f.member = m; f.filter = filter
        case .unshapeLink(let m, let s): f = FlatFields(Kind.unshapeLink.rawValue); f.member = m; f.set(s)
        case .continueProcess(let m, let p): f = FlatFields(Kind.continueProcess.rawValue); f.member = m; f.process = p
        case .removeBallast(let m): f = FlatFields(Kind.removeBallast.rawValue); f.member = m
        case .resumeReplay(let m): f = FlatFields(Kind.resumeReplay.rawValue); f.member = m
        case .startDCS(let ms): f = FlatFields(Kind.startDCS.rawValue); f.nodes = ms
        case .endSessions(let m, let h): f = FlatFields(Kind.endSessions.rawValue); f.member = m; f.hold = h
        case .rejoinRogue(let m): f = FlatFields(Kind.rejoinRogue.rawValue); f.member = m
        case .resumePooler: f = FlatFields(Kind.resumePooler.rawValue)
        case .syncReplication: f = FlatFields(Kind.syncReplication.rawValue)
        }
        try f.encode(to: encoder)
    }
}
